"""An application through the real HTTP app, store and broker: one event per change, the full answers, no contact."""

from __future__ import annotations

from uuid import UUID

import pytest

from cx_contracts.events import VisitorAnswersSubmitted, VisitorAnswersWithdrawn, parse_event
from cx_contracts.examples import application_payload
from cx_contracts.questionnaire import Organisation, VisitorAnswers
from cx_contracts.topics import VISITOR_ANSWERS

from cx_kit.service_testing import SERVICE_TEST_TOKEN, bearer, personal_data_in, topic_record_count
from cx_kit.testing import headers_of, read_topic

pytestmark = pytest.mark.integration


def _json(model) -> dict:
    return model.model_dump(mode="json")


async def _records(infrastructure, settings, count: int):
    topic = settings.topic(VISITOR_ANSWERS)
    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= count)
    assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == count, "no extra record"
    return records


async def test_a_submitted_application_produces_exactly_one_event_keyed_by_its_id_with_the_full_answers_and_no_contact(
    infrastructure, settings, applications, submit
):
    created = await submit(applications, 0)
    assert created["revision"] == 1 and len(created["owner_token"]) >= 43

    [record] = await _records(infrastructure, settings, 1)
    assert record.key == created["application_id"].encode()
    event = parse_event(record.topic, record.value, record.headers, key=record.key)
    assert isinstance(event, VisitorAnswersSubmitted)
    assert event.application_id == UUID(created["application_id"]) and event.revision == 1
    submitted = application_payload(0)
    assert _json(event.answers) == _json(VisitorAnswers.model_validate(submitted["answers"]))
    assert _json(event.organisation) == _json(Organisation.model_validate(submitted["organisation"]))
    assert personal_data_in([record], submitted["contact"]) == []
    assert headers_of(record)["revision"] == "1"


async def test_a_replacement_produces_the_next_revision_and_a_withdrawal_a_tombstone(
    infrastructure, settings, applications, submit
):
    created = await submit(applications, 1)
    path, owner = f"/api/applications/{created['application_id']}", bearer(created["owner_token"])
    new_answers = application_payload(1, answers={"days": 12, "participants": 2})["answers"]
    replaced = await applications.put(path, json={"answers": new_answers}, headers={**owner, "If-Match": '"1"'})
    assert replaced.status_code == 200 and replaced.headers["etag"] == '"2"'
    assert replaced.json()["contact"] == application_payload(1)["contact"]
    withdrawn = await applications.delete(path, headers={**owner, "If-Match": '"2"'})
    assert withdrawn.status_code == 204

    first, second, tombstone = await _records(infrastructure, settings, 3)
    replacement = parse_event(second.topic, second.value, second.headers, key=second.key)
    assert replacement.revision == 2 and replacement.answers.days == 12 and replacement.answers.participants == 2
    assert _json(replacement.answers) == _json(VisitorAnswers.model_validate(new_answers))
    assert tombstone.value is None and tombstone.key == created["application_id"].encode()
    descriptor = parse_event(tombstone.topic, tombstone.value, tombstone.headers, key=tombstone.key)
    assert isinstance(descriptor, VisitorAnswersWithdrawn) and descriptor.revision == 3
    assert personal_data_in([first, second, tombstone], application_payload(1)["contact"]) == []

    assert (await applications.get(path, headers=owner)).status_code == 404
    internal = await applications.get(f"/internal/contacts/applications/{created['application_id']}",
                                      headers=bearer(SERVICE_TEST_TOKEN))
    assert internal.status_code == 404


async def test_the_owner_reads_its_application_with_the_contact_and_an_etag(applications, submit):
    created = await submit(applications, 2)
    response = await applications.get(f"/api/applications/{created['application_id']}",
                                      headers=bearer(created["owner_token"]))
    assert response.status_code == 200 and response.headers["etag"] == '"1"'
    body = response.json()
    assert body["contact"] == application_payload(2)["contact"]
    assert body["answers"] == application_payload(2)["answers"]
    assert body["application_id"] == created["application_id"]


async def test_the_notifier_reads_a_visitors_contact_card_with_the_internal_token_only(applications, submit):
    created = await submit(applications, 0)
    path = f"/internal/contacts/applications/{created['application_id']}"
    card = await applications.get(path, headers=bearer(SERVICE_TEST_TOKEN))
    assert card.status_code == 200
    assert card.json() == {
        "id": created["application_id"],
        "kind": "visitor",
        "organisation": application_payload(0)["organisation"],
        "contact": application_payload(0)["contact"],
        "languages": ["bg", "en"],
    }
    for headers in ({}, bearer("wrong-token"), bearer(created["owner_token"])):
        assert (await applications.get(path, headers=headers)).status_code == 401


async def test_responses_holding_the_owner_token_or_the_contact_are_never_cached(applications):
    response = await applications.post("/api/applications", json=application_payload(1))
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    path, owner = f"/api/applications/{created['application_id']}", bearer(created["owner_token"])
    for read in (await applications.get(path, headers=owner), await applications.get(f"{path}/matches", headers=owner)):
        assert read.status_code == 200 and read.headers["cache-control"] == "no-store"
