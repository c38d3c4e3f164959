"""A visitor's application: what its event says and who the notifier writes to about it.

Pure functions of the stored state (JSON-ready dicts, as the repository keeps them); no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from cx_contracts.api import ApplicationPublic, ContactCard
from cx_contracts.events import VisitorAnswersSubmitted, VisitorAnswersWithdrawn, WithdrawalReason
from cx_contracts.questionnaire import OrganisationState, VisitorAnswersState

APPLICATION = "application"


def visitor_answers_submitted(
    application_id: str,
    revision: int,
    organisation: Mapping[str, Any],
    answers: Mapping[str, Any],
    occurred_at: datetime,
) -> VisitorAnswersSubmitted:
    """The event announcing an application as it now is: organisation and full answers, no contact."""
    return VisitorAnswersSubmitted(
        application_id=UUID(application_id),
        revision=revision,
        occurred_at=occurred_at,
        organisation=OrganisationState.model_validate(dict(organisation)),
        answers=VisitorAnswersState.model_validate(dict(answers)),
    )


def visitor_answers_withdrawn(application_id: str, revision: int, occurred_at: datetime) -> VisitorAnswersWithdrawn:
    """The tombstone descriptor of a withdrawn application."""
    return VisitorAnswersWithdrawn(
        application_id=UUID(application_id), revision=revision, occurred_at=occurred_at,
        reason=WithdrawalReason.WITHDRAWN,
    )


def public_application(
    application_id: str,
    revision: int,
    organisation: Mapping[str, Any],
    answers: Mapping[str, Any],
    updated_at: datetime,
) -> ApplicationPublic:
    """The application without its contact."""
    return ApplicationPublic(
        application_id=UUID(application_id), revision=revision, organisation=dict(organisation),
        answers=dict(answers), updated_at=updated_at,
    )


def visitor_contact_card(
    application_id: str, organisation: Mapping[str, Any], contact: Mapping[str, Any], answers: Mapping[str, Any]
) -> ContactCard:
    """Who the notifier writes to about this application, in which languages."""
    return ContactCard(
        id=UUID(application_id), kind="visitor", organisation=dict(organisation), contact=dict(contact),
        languages=list(answers.get("languages", [])),
    )
