"""What a host entry's events and views carry: the full state, never the contact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cx_contracts.codec import event_headers, event_key, event_value
from cx_contracts.examples import host_entry_payload
from cx_kit.aggregate_routes import contact_card
from cx_kit.service_testing import stored_record

from cx_catalogue.adapters.hosts import HOST_EVENTS
from cx_catalogue.domain.host_entry import search_text
from cx_catalogue.entrypoints.http import HOST_ENTRIES

pytestmark = pytest.mark.unit

WHEN = datetime(2027, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)


def test_the_submitted_event_carries_the_organisation_and_every_answer_keyed_by_the_host_id():
    payload = host_entry_payload(0)
    record = stored_record(payload, revision=3, at=WHEN)
    event = HOST_EVENTS.submitted(record)
    assert event.key == record.id and event_key(event) == record.id.encode()
    assert event.revision == 3 and event.occurred_at == WHEN
    assert event.model_dump(mode="json")["host_id"] == record.id
    assert event.model_dump(mode="json")["answers"] == payload["answers"]
    assert event.model_dump(mode="json")["organisation"] == payload["organisation"]


def test_no_event_byte_carries_the_contact():
    payload = host_entry_payload(0)
    event = HOST_EVENTS.submitted(stored_record(payload, at=WHEN))
    wire = event_value(event) + b"".join(value for _, value in event_headers(event))
    for personal in payload["contact"].values():
        assert personal.encode() not in wire


def test_a_withdrawal_is_a_tombstone_with_its_revision_and_reason():
    record = stored_record(host_entry_payload(0), revision=4, at=WHEN)
    descriptor = HOST_EVENTS.withdrawn(record)
    assert event_value(descriptor) is None
    headers = dict(event_headers(descriptor))
    assert headers["revision"] == b"4" and headers["reason"] == b"withdrawn"
    assert headers["event_type"] == b"host-answers-withdrawn" and descriptor.key == record.id


def test_the_public_view_has_no_contact_and_the_contact_card_has_it_with_the_languages():
    payload = host_entry_payload(2)
    record = stored_record(payload, at=WHEN)
    public = HOST_ENTRIES.public_view(record)
    assert "contact" not in public.model_dump()
    assert public.model_dump(mode="json")["host_id"] == record.id
    card = contact_card(record, HOST_ENTRIES.contact.kind)
    assert card.kind == "host" and card.contact.email == payload["contact"]["email"]
    assert card.languages == ["lt", "en", "ru"]


def test_the_owners_view_adds_the_contact_and_when_the_entry_was_created():
    payload = host_entry_payload(1)
    owned = HOST_ENTRIES.owned_view(stored_record(payload, at=WHEN)).model_dump(mode="json")
    assert owned["contact"] == payload["contact"] and owned["created_at"].startswith("2027-03-01T09:30:00.123")


def test_free_text_searches_the_expertise_and_keywords_case_folded():
    text = search_text(host_entry_payload(2)["answers"])
    assert "mdr" in text and "clinical validation" in text and "medical devices" in text
    assert text == text.casefold()
    assert "kaunas" not in text, "the city is not part of the searched text"
