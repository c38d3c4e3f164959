"""What a host entry's events and views carry: the full state, never the contact."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from cx_contracts.events import event_headers, event_key, event_value
from cx_contracts.examples import host_entry_payload

from cx_catalogue.domain.host_entry import (
    host_answers_submitted,
    host_answers_withdrawn,
    host_contact_card,
    public_entry,
    search_text,
)

pytestmark = pytest.mark.unit

WHEN = datetime(2027, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)


def test_the_submitted_event_carries_the_organisation_and_every_answer_keyed_by_the_host_id():
    payload = host_entry_payload(0)
    host_id = str(uuid4())
    event = host_answers_submitted(host_id, 3, payload["organisation"], payload["answers"], WHEN)
    assert event.key == host_id and event_key(event) == host_id.encode()
    assert event.revision == 3 and event.occurred_at == WHEN
    assert event.answers.model_dump(mode="json") == payload["answers"]
    assert event.organisation.model_dump(mode="json") == payload["organisation"]


def test_no_event_byte_carries_the_contact():
    payload = host_entry_payload(0)
    event = host_answers_submitted(str(uuid4()), 1, payload["organisation"], payload["answers"], WHEN)
    wire = event_value(event) + b"".join(value for _, value in event_headers(event))
    for personal in payload["contact"].values():
        assert personal.encode() not in wire


def test_a_withdrawal_is_a_tombstone_with_its_revision_and_reason():
    host_id = str(uuid4())
    descriptor = host_answers_withdrawn(host_id, 4, WHEN)
    assert event_value(descriptor) is None
    headers = dict(event_headers(descriptor))
    assert headers["revision"] == b"4" and headers["reason"] == b"withdrawn"
    assert headers["event_type"] == b"host-answers-withdrawn" and descriptor.key == host_id


def test_the_public_view_has_no_contact_and_the_contact_card_has_it_with_the_languages():
    payload = host_entry_payload(2)
    host_id = str(uuid4())
    public = public_entry(host_id, 1, payload["organisation"], payload["answers"], WHEN)
    assert "contact" not in public.model_dump()
    card = host_contact_card(host_id, payload["organisation"], payload["contact"], payload["answers"])
    assert card.kind == "host" and card.contact.email == payload["contact"]["email"]
    assert card.languages == ["lt", "en", "ru"]


def test_free_text_searches_the_expertise_and_keywords_case_folded():
    text = search_text(host_entry_payload(2)["answers"])
    assert "mdr" in text and "clinical validation" in text and "medical devices" in text
    assert text == text.casefold()
    assert "kaunas" not in text, "the city is not part of the searched text"
