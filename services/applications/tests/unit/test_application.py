"""What an application's events and views carry: the full state, never the contact."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from cx_contracts.events import event_headers, event_value
from cx_contracts.examples import application_payload

from cx_applications.domain.application import (
    public_application,
    visitor_answers_submitted,
    visitor_answers_withdrawn,
    visitor_contact_card,
)

pytestmark = pytest.mark.unit

WHEN = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def test_the_submitted_event_carries_the_organisation_and_every_answer_keyed_by_the_application_id():
    payload = application_payload(1)
    application_id = str(uuid4())
    event = visitor_answers_submitted(application_id, 2, payload["organisation"], payload["answers"], WHEN)
    assert event.key == application_id and event.revision == 2 and event.occurred_at == WHEN
    assert event.answers.model_dump(mode="json") == payload["answers"]
    assert event.organisation.model_dump(mode="json") == payload["organisation"]
    wire = event_value(event) + b"".join(value for _, value in event_headers(event))
    for personal in payload["contact"].values():
        assert personal.encode() not in wire


def test_a_withdrawal_is_a_tombstone_with_its_revision():
    descriptor = visitor_answers_withdrawn(str(uuid4()), 5, WHEN)
    assert event_value(descriptor) is None
    headers = dict(event_headers(descriptor))
    assert headers["event_type"] == b"visitor-answers-withdrawn" and headers["revision"] == b"5"


def test_the_public_application_has_no_contact_and_the_card_has_it_with_the_languages():
    payload = application_payload(2)
    application_id = str(uuid4())
    assert "contact" not in public_application(application_id, 1, payload["organisation"], payload["answers"],
                                               WHEN).model_dump()
    card = visitor_contact_card(application_id, payload["organisation"], payload["contact"], payload["answers"])
    assert card.kind == "visitor" and card.contact.name == payload["contact"]["name"]
    assert card.languages == ["uk", "en", "pl"]
