"""Owned aggregates on the real store: each change and its event are one write, and stale writers change nothing."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import pytest

from cx_contracts.events import HostAnswersSubmitted, HostAnswersWithdrawn
from cx_contracts.examples import host_entry_payload
from cx_kit.aggregates import ACTIVE, WITHDRAWN, AggregateRecord, NotFound, OwnedAggregates, StaleRevision, Written

pytestmark = pytest.mark.integration


class Events:
    def submitted(self, record: AggregateRecord) -> HostAnswersSubmitted:
        return HostAnswersSubmitted(
            host_id=UUID(record.id),
            revision=record.revision,
            occurred_at=record.updated_at,
            organisation=record.organisation,
            answers=record.answers,
        )

    def withdrawn(self, record: AggregateRecord) -> HostAnswersWithdrawn:
        return HostAnswersWithdrawn(host_id=UUID(record.id), revision=record.revision, occurred_at=record.updated_at)


def _repository(database, writes: list[int] | None = None) -> OwnedAggregates:
    return OwnedAggregates(
        database["records"],
        Events(),
        topic_namespace="tns.",
        after_write=(lambda: writes.append(1)) if writes is not None else None,
        derived=lambda record: {"search_text": record.answers["expertise"].casefold()},
    )


async def _create(
    repository: OwnedAggregates, owner: str = "owner-a", index: int = 0, partnership: str = "escp-4x-01"
) -> AggregateRecord:
    payload = host_entry_payload(index)
    return await repository.create(
        owner=owner,
        partnership=partnership,
        organisation=payload["organisation"],
        contact=payload["contact"],
        answers=payload["answers"],
    )


async def test_a_created_record_is_stored_at_revision_1_with_its_event_queued(mongo_database):
    writes: list[int] = []
    repository = _repository(mongo_database, writes)
    record = await _create(repository)
    document = await mongo_database["records"].find_one({"_id": record.id})
    assert document["revision"] == 1 and document["status"] == ACTIVE and document["owner"] == "owner-a"
    assert document["partnership"] == "escp-4x-01" and "partnership" not in json.loads(document["outbox"][0]["value"])
    assert document["search_text"] == host_entry_payload(0)["answers"]["expertise"].casefold()
    [entry] = document["outbox"]
    assert entry["topic"] == "tns.cx.catalogue.host-answers.v1" and entry["key"] == record.id
    event = json.loads(entry["value"])
    assert event["revision"] == 1 and event["answers"] == host_entry_payload(0)["answers"]
    assert writes == [1], "the relay is woken after the write"


async def test_a_replace_at_the_read_revision_bumps_it_and_queues_the_full_new_state(mongo_database):
    repository = _repository(mongo_database)
    record = await _create(repository)
    new_answers = host_entry_payload(1)["answers"]
    outcome = await repository.replace(record.id, "owner-a", 1, answers=new_answers)
    assert isinstance(outcome, Written) and outcome.revision == 2
    document = await mongo_database["records"].find_one({"_id": record.id})
    assert document["revision"] == 2 and document["answers"] == new_answers
    assert document["organisation"] == host_entry_payload(0)["organisation"], "unchanged when not sent"
    assert document["search_text"] == new_answers["expertise"].casefold(), "derived fields follow the state"
    event = json.loads(document["outbox"][-1]["value"])
    assert event["revision"] == 2 and event["answers"] == new_answers
    assert event["organisation"] == host_entry_payload(0)["organisation"]


async def test_a_stale_revision_or_another_owner_changes_nothing(mongo_database):
    repository = _repository(mongo_database)
    record = await _create(repository)
    assert isinstance(
        await repository.replace(record.id, "owner-a", 1, answers=host_entry_payload(1)["answers"]), Written
    )
    before = await mongo_database["records"].find_one({"_id": record.id})

    stale = await repository.replace(record.id, "owner-a", 1, answers=host_entry_payload(2)["answers"])
    assert stale == StaleRevision(expected=1, current=2)
    assert await repository.replace(record.id, "owner-b", 2, answers=host_entry_payload(2)["answers"]) == NotFound()
    assert await repository.withdraw(record.id, "owner-b", 2) == NotFound()
    assert await repository.get_owned(record.id, "owner-b") is None
    assert await mongo_database["records"].find_one({"_id": record.id}) == before


async def test_concurrent_writers_of_one_revision_get_one_success_and_the_rest_stale(mongo_database):
    repository = _repository(mongo_database)
    record = await _create(repository)
    outcomes = await asyncio.gather(
        *[repository.replace(record.id, "owner-a", 1, answers=host_entry_payload(i % 5)["answers"]) for i in range(8)]
    )
    assert sum(isinstance(o, Written) for o in outcomes) == 1
    assert all(o == StaleRevision(1, 2) for o in outcomes if not isinstance(o, Written))
    document = await mongo_database["records"].find_one({"_id": record.id})
    assert document["revision"] == 2 and len(document["outbox"]) == 2, "one change, one event"


async def test_a_withdrawal_queues_a_tombstone_drops_the_contact_and_hides_the_record(mongo_database):
    repository = _repository(mongo_database)
    record = await _create(repository)
    outcome = await repository.withdraw(record.id, "owner-a", 1)
    assert isinstance(outcome, Written) and outcome.revision == 2 and outcome.record.status == WITHDRAWN
    document = await mongo_database["records"].find_one({"_id": record.id})
    assert document["status"] == WITHDRAWN and document["contact"] is None and document["revision"] == 2
    tombstone = document["outbox"][-1]
    assert tombstone["value"] is None and tombstone["key"] == record.id
    assert tombstone["headers"]["event_type"] == "host-answers-withdrawn" and tombstone["headers"]["revision"] == "2"
    assert await repository.get(record.id) is None
    assert await repository.get_owned(record.id, "owner-a") is None
    assert await repository.withdraw(record.id, "owner-a", 2) == NotFound(), "withdrawn once"
    assert await repository.count(status=ACTIVE) == 0


async def test_a_page_holds_the_active_records_of_one_owner_or_of_one_partnership_oldest_first(mongo_database):
    repository = _repository(mongo_database)
    first = await _create(repository, "owner-a", 0, "escp-4x-01")
    second = await _create(repository, "owner-a", 1, "escp-4x-02")
    theirs = await _create(repository, "owner-b", 2, "escp-4x-02")
    gone = await _create(repository, "owner-a", 3, "escp-4x-02")
    assert isinstance(await repository.withdraw(gone.id, "owner-a", 1), Written)

    owned = await repository.page(skip=0, limit=10, owner="owner-a")
    assert [r.id for r in owned.records] == [first.id, second.id] and owned.total == 2
    later = await repository.page(skip=1, limit=1, owner="owner-a")
    assert [r.id for r in later.records] == [second.id] and later.total == 2
    overseen = await repository.page(skip=0, limit=10, partnership="escp-4x-02")
    assert [r.id for r in overseen.records] == [second.id, theirs.id]
    assert overseen.records[0].partnership == "escp-4x-02" and overseen.records[0].contact is not None
    with pytest.raises(ValueError):
        await repository.page(skip=0, limit=10)
