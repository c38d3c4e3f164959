"""The outbox on the real store and broker: an event queued with its state reaches a subscriber once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import DuplicateKeyError

from cx_kit.kafka import make_broker
from cx_kit.outbox import BrokerPublisher, OutboxEntry, OutboxRelay, PublishStalled, with_outbox
from cx_kit.testing import headers_of, read_topic, unique, wait_until

pytestmark = pytest.mark.integration


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=5)


def _entry(topic: str, aggregate_id: str, revision: int) -> OutboxEntry:
    event_id = str(uuid.uuid4())
    return OutboxEntry(
        event_id=event_id,
        topic=topic,
        key=aggregate_id,
        value=json.dumps({"event_id": event_id, "aggregate_id": aggregate_id, "revision": revision}),
        headers={"event_id": event_id, "event_type": "TestChanged", "content-type": "application/json"},
    )


async def _write_with_event(collection, aggregate_id: str, revision: int, topic: str) -> OutboxEntry:
    entry = _entry(topic, aggregate_id, revision)
    await collection.update_one(
        {"_id": aggregate_id},
        with_outbox({"$set": {"revision": revision, "name": f"state {revision}"}}, entry),
        upsert=True,
    )
    return entry


async def test_an_event_queued_with_its_state_reaches_a_real_subscriber(infrastructure, mongo_database, kafka_topic):
    topic = await kafka_topic()
    collection = mongo_database["aggregates"]
    aggregate_id = unique("agg")
    entry = await _write_with_event(collection, aggregate_id, 1, topic)

    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("relay-test"))
    received: list[dict] = []

    @broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def on_event(body: dict) -> None:
        received.append(body)

    relay = OutboxRelay([collection], BrokerPublisher(broker), poll_interval_s=0.1)
    async with broker:
        await broker.start()
        await relay.start()
        try:
            await wait_until(lambda: _async(received), message="the event at the subscriber")
        finally:
            await relay.stop()

    assert received == [json.loads(entry.value)]
    stored = await collection.find_one({"_id": aggregate_id})
    assert stored["outbox"] == [], "the relay clears what it published"
    assert stored["name"] == "state 1"
    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
    assert records[0].key == aggregate_id.encode()
    assert headers_of(records[0])["event_id"] == entry.event_id


async def test_a_relay_killed_between_publish_and_clear_publishes_again_and_the_consumer_applies_once(
    infrastructure, mongo_database, kafka_topic
):
    topic = await kafka_topic()
    collection = mongo_database["aggregates"]
    aggregate_id = unique("agg")
    entry = await _write_with_event(collection, aggregate_id, 1, topic)
    producer_broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("relay"))

    class Killed(BaseException):
        """Stands for the process dying: nothing after the publish runs."""

    class RelayThatDiesAfterPublishing(OutboxRelay):
        async def _clear(self, collection, document_id, event_id):
            raise Killed

    async with producer_broker:
        await producer_broker.start()
        dying = RelayThatDiesAfterPublishing([collection], BrokerPublisher(producer_broker), lease_s=0.5)
        with pytest.raises(Killed):
            await dying.run_once()
        assert len((await collection.find_one({"_id": aggregate_id}))["outbox"]) == 1, "still pending after the crash"

        await asyncio.sleep(0.6)  # the dead relay's lease runs out, as it would after a real crash
        restarted = OutboxRelay([collection], BrokerPublisher(producer_broker))
        assert await restarted.run_once() == 1

    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 2)
    assert [headers_of(r)["event_id"] for r in records] == [entry.event_id, entry.event_id], "published twice"

    # The consumer side: a consumer deduplicating on event_id (insert-if-absent on a unique _id, one atomic step)
    # applies the two copies once.
    consumer_broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("consumer"))
    applied = mongo_database["applied"]
    effects: list[str] = []
    deliveries: list[str] = []

    @consumer_broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def on_event(body: dict) -> None:
        deliveries.append(body["event_id"])
        try:
            await applied.insert_one({"_id": body["event_id"]})
        except DuplicateKeyError:
            return  # applied before
        effects.append(body["event_id"])

    async with consumer_broker:
        await consumer_broker.start()
        await wait_until(lambda: _async(len(deliveries) >= 2), message="both copies delivered")

    assert effects == [entry.event_id]
    assert (await collection.find_one({"_id": aggregate_id}))["outbox"] == []


async def test_events_queued_while_a_relay_publishes_are_not_lost(infrastructure, mongo_database, kafka_topic):
    topic = await kafka_topic()
    collection = mongo_database["aggregates"]
    aggregate_id = unique("agg")
    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("relay"))
    relay = OutboxRelay([collection], BrokerPublisher(broker), poll_interval_s=0.05)
    queued = []
    async with broker:
        await broker.start()
        await relay.start()
        for revision in range(1, 21):
            queued.append(await _write_with_event(collection, aggregate_id, revision, topic))
            relay.wake()
        await wait_until(lambda: _outbox_empty(collection, aggregate_id), message="outbox drained")
        await relay.stop()

    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 20)
    assert [headers_of(r)["event_id"] for r in records] == [e.event_id for e in queued], "all, once, in order"


async def _async(value):
    return value


async def _outbox_empty(collection, aggregate_id):
    document = await collection.find_one({"_id": aggregate_id})
    return document is not None and document.get("outbox") == []


class _Recording:
    """A publisher that records what it published, with hooks run before and after each publish."""

    def __init__(self, before=None, after=None) -> None:
        self.published: list[str] = []
        self._before, self._after = before, after

    async def publish_entry(self, entry: OutboxEntry) -> None:
        if self._before is not None:
            await self._before(entry, len(self.published))
        self.published.append(entry.event_id)
        if self._after is not None:
            await self._after(entry, len(self.published))


async def _pending_document(collection, topic: str, revisions: int) -> tuple[str, list[OutboxEntry]]:
    aggregate_id = unique("agg")
    entries = [await _write_with_event(collection, aggregate_id, r, topic) for r in range(1, revisions + 1)]
    return aggregate_id, entries


async def test_a_relay_whose_lease_was_taken_over_publishes_nothing_more_of_that_document(mongo_database):
    # Before: the lease was taken once and never checked again, so a relay that stalled past it went on
    # publishing next to the relay that took the document over.
    collection = mongo_database["aggregates"]
    aggregate_id, entries = await _pending_document(collection, "t", 3)

    async def taken_over_after_the_first(entry: OutboxEntry, published: int) -> None:
        if published == 1:  # another replica claims the document (its lease ran out while this one stalled)
            await collection.update_one(
                {"_id": aggregate_id}, {"$set": {"outbox_lease": {"relay": "other", "until": _later()}}}
            )

    publisher = _Recording(after=taken_over_after_the_first)
    relay = OutboxRelay([collection], publisher, lease_s=30)
    await relay.run_once()

    assert publisher.published == [entries[0].event_id], "nothing published after the lease was lost"
    stored = await collection.find_one({"_id": aggregate_id})
    assert [e["event_id"] for e in stored["outbox"]] == [e.event_id for e in entries[1:]], "left for the holder"
    assert stored["outbox_lease"]["relay"] == "other", "the holder's lease is not touched"


async def test_a_stalled_publish_is_given_up_within_the_lease_and_the_next_holder_publishes_in_order(mongo_database):
    collection = mongo_database["aggregates"]
    _, entries = await _pending_document(collection, "t", 2)

    async def stall(entry: OutboxEntry, published: int) -> None:
        await asyncio.sleep(10)  # a broker that does not answer

    stalled = OutboxRelay([collection], _Recording(stall), lease_s=0.6)
    with pytest.raises(PublishStalled):
        await stalled.run_once()
    assert await OutboxRelay([collection], _Recording()).run_once() == 0, "the lease still holds the document"

    await asyncio.sleep(0.7)
    publisher = _Recording()
    assert await OutboxRelay([collection], publisher, lease_s=0.6).run_once() == 1
    assert publisher.published == [e.event_id for e in entries], "every entry once, in order"


async def test_a_long_drain_renews_its_lease_so_no_second_relay_claims_the_document(mongo_database):
    collection = mongo_database["aggregates"]
    _, entries = await _pending_document(collection, "t", 4)
    rival = OutboxRelay([collection], _Recording(), lease_s=0.5)
    claims: list[int] = []

    async def slow(entry: OutboxEntry, published: int) -> None:
        await asyncio.sleep(0.15)  # four entries take longer than one lease
        claims.append(await rival.run_once())

    publisher = _Recording(slow)
    await OutboxRelay([collection], publisher, lease_s=0.5).run_once()
    assert publisher.published == [e.event_id for e in entries]
    assert claims == [0, 0, 0, 0], "the renewed lease kept the rival out throughout"
    assert rival._publisher.published == []
