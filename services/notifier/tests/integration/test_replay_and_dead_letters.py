"""Replays send nothing new; poison and exhausted records go to the dead-letter topic and nothing planned is lost."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from cx_contracts import examples
from cx_contracts.codec import event_headers, headers_as_text
from cx_contracts.topics import ConsumerGroups
from cx_kit.kafka import DLQ_ATTEMPTS, DLQ_ERROR_MESSAGE, DLQ_ERROR_TYPE, DLQ_SOURCE_TOPIC
from cx_kit.service_testing import topic_record_count
from cx_kit.testing import headers_of, read_topic, wait_until

pytestmark = pytest.mark.integration

PARTITIONS = 3  # what the world creates


def _partitions(topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in range(PARTITIONS)]


async def _lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of `topic` the group has not committed yet."""
    partitions = _partitions(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return sum(ends[tp] - max(0, committed[tp].offset if tp in committed else 0) for tp in partitions)
    finally:
        await consumer.stop()
        await admin.close()


async def _rewind_to_the_beginning(bootstrap: str, group: str, topic: str) -> None:
    """What an operator does to replay a topic: commit offset 0 on every partition for the (stopped) group."""
    partitions = _partitions(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit({tp: OffsetAndMetadata(0, "") for tp in partitions})
    finally:
        await consumer.stop()


async def test_replaying_the_whole_match_found_topic_from_the_beginning_sends_no_new_mail(world):
    bootstrap = world.infrastructure.kafka_bootstrap
    group = world.namespace + ConsumerGroups.NOTIFIER_MATCHES
    runs = []
    for _ in range(3):
        visitor = world.organisation("visitor")
        hosts = [world.organisation("host", index=i) for i in range(3)]
        runs.append(examples.match_found(application_id=visitor.id, host_ids=[h.id for h in hosts]))

    async with world.running():
        await world.publish(*runs)
        await world.wait_for_mails(12)
        await wait_until(lambda: _zero(_lag(bootstrap, group, world.match_found_topic)), message="all committed")
    before = {m["MessageID"] for m in await world.mails()}
    attempts_before = {e["_id"]: e["attempts"] for e in await world.entries()}

    await _rewind_to_the_beginning(bootstrap, group, world.match_found_topic)
    assert await _lag(bootstrap, group, world.match_found_topic) == 3, "the replay starts from the first record"
    async with world.running():
        await wait_until(
            lambda: _zero(_lag(bootstrap, group, world.match_found_topic)),
            timeout=40,
            message="the replay consumed every record",
        )
        after = await world.mails()

    assert len(before) == 12
    assert len(after) == 12, "no new mail"
    assert {m["MessageID"] for m in after} == before
    assert {e["_id"]: e["attempts"] for e in await world.entries()} == attempts_before, "no new send attempt"


async def _zero(lag_coroutine) -> bool:
    return await lag_coroutine == 0


async def test_a_malformed_event_goes_to_the_dead_letter_topic_and_the_next_one_is_still_handled(world):
    visitor = world.organisation("visitor")
    host = world.organisation("host")
    good = examples.match_found(application_id=visitor.id, host_ids=[host.id])
    broken = examples.match_found(application_id=visitor.id).model_dump(mode="json")
    broken["matches"][0]["rank"] = 2  # ranks must run 1, 2, 3
    key = str(visitor.id).encode()

    async with world.running():
        await world.publish_raw(b'{"match_run_id": ', key=key)  # not JSON
        await world.publish_raw(json.dumps(broken).encode(), key=key, headers=headers_as_text(event_headers(good)))
        await world.publish(good)
        mails = await world.wait_for_mails(2)
        dead = await read_topic(
            world.infrastructure.kafka_bootstrap,
            world.match_found_topic + ".dlq",
            until=lambda records: len(records) >= 2,
        )

    assert world.received(mails, [visitor, host]) == {visitor.id: 1, host.id: 1}
    assert dead[0].value == b'{"match_run_id": ', "copied byte for byte"
    for record in dead:
        headers = headers_of(record)
        assert headers[DLQ_ERROR_TYPE] == "cx_contracts.errors.ContractError"
        assert headers[DLQ_ATTEMPTS] == "1", "a broken record is not retried"
        assert headers[DLQ_SOURCE_TOPIC] == world.match_found_topic
    assert "not JSON" in headers_of(dead[0])[DLQ_ERROR_MESSAGE]
    assert "Ranks must run 1, 2" in headers_of(dead[1])[DLQ_ERROR_MESSAGE]
    assert len(await world.entries()) == 2, "nothing of the broken records was planned"


async def test_a_relay_down_past_the_attempts_pauses_the_record_never_dead_letters_it_and_the_mails_follow_once(
    world, smtp_proxy
):
    # An outage is not the record's fault (issue 13): before, the record went to the DLQ after its attempts.
    visitor = world.organisation("visitor")
    hosts = [world.organisation("host", index=i) for i in range(2)]
    match = examples.match_found(application_id=visitor.id, host_ids=[h.id for h in hosts])
    await smtp_proxy.close()

    async with world.running(
        smtp_port=smtp_proxy.port,
        consumer_max_attempts=3,
        consumer_backoff_initial_s=0.05,
        consumer_backoff_max_s=0.2,
        resume_after_s=1.0,
        resume_interval_s=0.5,
    ):
        await world.publish(match)

        async def failed_past_the_attempts():
            entries = await world.entries()
            return entries if entries and max(e["failed_attempts"] for e in entries) >= 4 else None

        planned = await wait_until(failed_past_the_attempts, message="the relay refused more than three attempts")
        await smtp_proxy.open()
        mails = await world.wait_for_mails(3)

        async def all_sent():
            entries = await world.entries()
            return all(e["status"] == "sent" for e in entries) and entries

        entries = await wait_until(all_sent, message="every planned mail sent once the relay is back")

    dead_letters = await topic_record_count(world.infrastructure.kafka_bootstrap, world.match_found_topic + ".dlq")
    assert dead_letters == 0, "a good record is never dead-lettered because the relay was down"
    assert all(e["status"] == "pending" for e in planned), "the intent waits while the relay is down"
    assert world.received(mails, [visitor, *hosts]) == {c.id: 1 for c in (visitor, *hosts)}, "each mail once"
    visitor_entry = next(e for e in entries if e["recipient_id"] == str(visitor.id))
    assert visitor_entry["failed_attempts"] >= 4
    assert visitor_entry["attempts"] == visitor_entry["failed_attempts"] + 1
