"""What an application's events and views carry: the full state, never the contact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cx_contracts.codec import event_headers, event_value
from cx_contracts.examples import application_payload
from cx_kit.aggregate_routes import contact_card
from cx_kit.service_testing import stored_record

from cx_applications.adapters.applications import APPLICATION_EVENTS
from cx_applications.entrypoints.http import APPLICATIONS

pytestmark = pytest.mark.unit

WHEN = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def test_the_submitted_event_carries_the_organisation_and_every_answer_keyed_by_the_application_id():
    payload = application_payload(1)
    record = stored_record(payload, revision=2, at=WHEN)
    event = APPLICATION_EVENTS.submitted(record)
    assert event.key == record.id and event.revision == 2 and event.occurred_at == WHEN
    sent = event.model_dump(mode="json")
    assert sent["application_id"] == record.id
    assert sent["answers"] == payload["answers"]
    assert sent["organisation"] == payload["organisation"]
    wire = event_value(event) + b"".join(value for _, value in event_headers(event))
    for personal in payload["contact"].values():
        assert personal.encode() not in wire


def test_a_withdrawal_is_a_tombstone_with_its_revision():
    descriptor = APPLICATION_EVENTS.withdrawn(stored_record(application_payload(0), revision=5, at=WHEN))
    assert event_value(descriptor) is None
    headers = dict(event_headers(descriptor))
    assert headers["event_type"] == b"visitor-answers-withdrawn" and headers["revision"] == b"5"


def test_the_public_application_has_no_contact_and_the_card_has_it_with_the_languages():
    payload = application_payload(2)
    record = stored_record(payload, at=WHEN)
    assert "contact" not in APPLICATIONS.public_view(record).model_dump()
    card = contact_card(record, APPLICATIONS.contact.kind)
    assert card.kind == "visitor" and card.contact.name == payload["contact"]["name"]
    assert card.languages == ["uk", "en", "pl"]
