"""A host's entry through the real HTTP app, store and broker: one event per change, the full answers, no contact."""

from __future__ import annotations

from uuid import UUID

import pytest

from cx_contracts.events import HostAnswersSubmitted, HostAnswersWithdrawn, parse_event
from cx_contracts.examples import host_entry_payload
from cx_contracts.questionnaire import HostAnswers, Organisation
from cx_contracts.topics import HOST_ANSWERS

from cx_kit.service_testing import SERVICE_TEST_TOKEN, bearer, personal_data_in, topic_record_count
from cx_kit.testing import headers_of, read_topic

pytestmark = pytest.mark.integration


def _json(model) -> dict:
    return model.model_dump(mode="json")


async def _records(infrastructure, settings, count: int):
    topic = settings.topic(HOST_ANSWERS)
    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= count)
    assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == count, "no extra record"
    return records


async def test_a_published_entry_produces_exactly_one_event_keyed_by_its_id_with_the_full_answers_and_no_contact(
    infrastructure, settings, catalogue, publish
):
    created = await publish(catalogue, 0)
    assert created["revision"] == 1 and len(created["owner_token"]) >= 43

    [record] = await _records(infrastructure, settings, 1)
    assert record.key == created["host_id"].encode()
    event = parse_event(record.topic, record.value, record.headers, key=record.key)
    assert isinstance(event, HostAnswersSubmitted)
    assert event.host_id == UUID(created["host_id"]) and event.revision == 1
    submitted = host_entry_payload(0)
    assert _json(event.answers) == _json(HostAnswers.model_validate(submitted["answers"])), "all the answers travel"
    assert _json(event.organisation) == _json(Organisation.model_validate(submitted["organisation"]))
    assert personal_data_in([record], submitted["contact"]) == []
    assert headers_of(record)["revision"] == "1"


async def test_a_replacement_produces_the_next_revision_and_a_withdrawal_a_tombstone(
    infrastructure, settings, catalogue, publish
):
    created = await publish(catalogue, 0)
    host_id, owner = created["host_id"], bearer(created["owner_token"])
    new_contact = {"name": "Jonas Petersen", "email": "jonas.petersen@nordwest-agrifood.example"}
    replaced = await catalogue.put(
        f"/api/catalogue/hosts/{host_id}",
        json={"answers": host_entry_payload(1)["answers"], "contact": new_contact},
        headers={**owner, "If-Match": '"1"'},
    )
    assert replaced.status_code == 200 and replaced.headers["etag"] == '"2"'
    withdrawn = await catalogue.delete(f"/api/catalogue/hosts/{host_id}", headers={**owner, "If-Match": '"2"'})
    assert withdrawn.status_code == 204 and withdrawn.headers["etag"] == '"3"'

    created_record, replaced_record, tombstone = await _records(infrastructure, settings, 3)
    assert {r.partition for r in (created_record, replaced_record, tombstone)} == {created_record.partition}, (
        "one key, one partition: consumers see the changes in order"
    )
    replacement = parse_event(replaced_record.topic, replaced_record.value, replaced_record.headers,
                              key=replaced_record.key)
    assert replacement.revision == 2
    assert _json(replacement.answers) == _json(HostAnswers.model_validate(host_entry_payload(1)["answers"]))
    unchanged = Organisation.model_validate(host_entry_payload(0)["organisation"])
    assert _json(replacement.organisation) == _json(unchanged), "an unchanged organisation still travels in full"
    assert tombstone.value is None and tombstone.key == host_id.encode()
    descriptor = parse_event(tombstone.topic, tombstone.value, tombstone.headers, key=tombstone.key)
    assert isinstance(descriptor, HostAnswersWithdrawn)
    assert descriptor.revision == 3 and descriptor.reason == "withdrawn"
    for contact in (host_entry_payload(0)["contact"], new_contact):
        assert personal_data_in([created_record, replaced_record, tombstone], contact) == []


async def test_a_withdrawn_entry_is_gone_for_everyone(infrastructure, settings, catalogue, publish):
    created = await publish(catalogue, 2)
    host_id, owner = created["host_id"], bearer(created["owner_token"])
    assert (await catalogue.delete(f"/api/catalogue/hosts/{host_id}",
                                   headers={**owner, "If-Match": '"1"'})).status_code == 204

    assert (await catalogue.get(f"/api/catalogue/hosts/{host_id}")).status_code == 404
    assert (await catalogue.get(f"/api/catalogue/hosts/{host_id}", headers=owner)).status_code == 404
    assert (await catalogue.get("/api/catalogue/hosts")).json()["total"] == 0
    internal = await catalogue.get(f"/internal/contacts/hosts/{host_id}", headers=bearer(SERVICE_TEST_TOKEN))
    assert internal.status_code == 404, "the notifier writes to no withdrawn host"
    again = await catalogue.put(f"/api/catalogue/hosts/{host_id}", json={"answers": host_entry_payload(2)["answers"]},
                                headers={**owner, "If-Match": '"2"'})
    assert again.status_code == 404
    stored = await catalogue.app.state.hosts.collection.find_one({"_id": host_id})
    assert stored["contact"] is None, "a withdrawn host's personal data is not kept"


async def test_the_owner_reads_the_entry_with_its_contact_and_the_public_without(catalogue, publish):
    created = await publish(catalogue, 1)
    path = f"/api/catalogue/hosts/{created['host_id']}"
    public = await catalogue.get(path)
    owned = await catalogue.get(path, headers=bearer(created["owner_token"]))
    assert public.status_code == owned.status_code == 200
    assert public.headers["etag"] == owned.headers["etag"] == '"1"'
    assert "contact" not in public.json()
    assert owned.json()["contact"] == host_entry_payload(1)["contact"]
    assert public.json()["answers"] == owned.json()["answers"] == host_entry_payload(1)["answers"]


async def test_the_notifier_reads_a_hosts_contact_card_with_the_internal_token_only(catalogue, publish):
    created = await publish(catalogue, 3)
    path = f"/internal/contacts/hosts/{created['host_id']}"
    card = await catalogue.get(path, headers=bearer(SERVICE_TEST_TOKEN))
    assert card.status_code == 200
    assert card.json() == {
        "id": created["host_id"],
        "kind": "host",
        "organisation": host_entry_payload(3)["organisation"],
        "contact": host_entry_payload(3)["contact"],
        "languages": ["pt", "en", "es"],
    }
    for headers in ({}, bearer("wrong-token"), bearer(created["owner_token"])):
        refused = await catalogue.get(path, headers=headers)
        assert refused.status_code == 401 and "Bearer" in refused.headers["www-authenticate"]
    unknown = await catalogue.get("/internal/contacts/hosts/7d7c2a7e-3c1b-4a8e-9a55-6f2d8d0b9c11",
                                  headers=bearer(SERVICE_TEST_TOKEN))
    assert unknown.status_code == 404


async def test_responses_holding_the_owner_token_or_the_contact_are_never_cached(catalogue, publish):
    response = await catalogue.post("/api/catalogue/hosts", json=host_entry_payload(0))
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    owned = await catalogue.get(f"/api/catalogue/hosts/{created['host_id']}", headers=bearer(created["owner_token"]))
    public = await catalogue.get(f"/api/catalogue/hosts/{created['host_id']}")
    assert owned.headers["cache-control"] == "no-store" and "cache-control" not in public.headers
    assert public.headers["vary"] == owned.headers["vary"] == "Authorization"
