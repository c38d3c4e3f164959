"""A host's catalogue entry: what its event says, who may be told how to reach it, and what free text finds it.

Pure functions of the stored state (JSON-ready dicts, as the repository keeps them); no I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from cx_contracts.api import ContactCard, HostEntryPublic
from cx_contracts.events import HostAnswersSubmitted, HostAnswersWithdrawn, WithdrawalReason
from cx_contracts.questionnaire import HostAnswersState, OrganisationState

HOST = "catalogue entry"


def host_answers_submitted(
    host_id: str, revision: int, organisation: Mapping[str, Any], answers: Mapping[str, Any], occurred_at: datetime
) -> HostAnswersSubmitted:
    """The event announcing a host's entry as it now is: organisation and full answers, no contact."""
    return HostAnswersSubmitted(
        host_id=UUID(host_id),
        revision=revision,
        occurred_at=occurred_at,
        organisation=OrganisationState.model_validate(dict(organisation)),
        answers=HostAnswersState.model_validate(dict(answers)),
    )


def host_answers_withdrawn(host_id: str, revision: int, occurred_at: datetime) -> HostAnswersWithdrawn:
    """The tombstone descriptor of a withdrawn entry."""
    return HostAnswersWithdrawn(
        host_id=UUID(host_id), revision=revision, occurred_at=occurred_at, reason=WithdrawalReason.WITHDRAWN
    )


def public_entry(
    host_id: str, revision: int, organisation: Mapping[str, Any], answers: Mapping[str, Any], updated_at: datetime
) -> HostEntryPublic:
    """The entry as anyone may read it (no contact)."""
    return HostEntryPublic(
        host_id=UUID(host_id), revision=revision, organisation=dict(organisation), answers=dict(answers),
        updated_at=updated_at,
    )


def host_contact_card(
    host_id: str, organisation: Mapping[str, Any], contact: Mapping[str, Any], answers: Mapping[str, Any]
) -> ContactCard:
    """Who the notifier writes to about this host, in which languages."""
    return ContactCard(
        id=UUID(host_id), kind="host", organisation=dict(organisation), contact=dict(contact),
        languages=list(answers.get("languages", [])),
    )


def searchable(text: str) -> str:
    """Text in the form free-text search compares: NFC-normalised and case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def search_text(answers: Mapping[str, Any]) -> str:
    """What the catalogue's free-text search looks in: the expertise and the keywords."""
    return searchable("\n".join([answers.get("expertise", ""), *answers.get("keywords", [])]))
