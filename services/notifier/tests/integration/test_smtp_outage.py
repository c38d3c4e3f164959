"""The mail relay unreachable for 30 s: every mail goes out once it is back, none twice, nothing dead-lettered."""

from __future__ import annotations

import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cx_contracts import examples
from cx_kit.testing import wait_until

pytestmark = pytest.mark.integration

OUTAGE_S = 30.0


async def _records_in(bootstrap: str, topic: str, partitions: int = 3) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def test_smtp_unreachable_for_30_seconds_every_mail_is_sent_after_it_returns_and_none_twice(world, smtp_proxy):
    visitors = [world.organisation("visitor", index=i) for i in range(2)]
    hosts = [world.organisation("host", index=i) for i in range(3)]
    runs = [examples.match_found(application_id=v.id, host_ids=[h.id for h in hosts]) for v in visitors]
    await smtp_proxy.close()

    # The default retry settings: this is the outage they are meant to ride out without a dead letter.
    async with world.running(smtp_port=smtp_proxy.port):
        await world.publish(*runs)

        async def failing():
            entries = await world.entries()
            return any(e.get("failed_attempts", 0) >= 1 for e in entries)

        await wait_until(failing, message="the first refused attempt")
        down_since = time.monotonic()

        async def outage_over_and_nothing_arrived():
            assert await world.mails() == [], "nothing can arrive while the relay is down"
            return time.monotonic() - down_since >= OUTAGE_S

        await wait_until(
            outage_over_and_nothing_arrived, timeout=OUTAGE_S + 10, interval=1.0, message="the end of the 30 s outage"
        )
        entries_during = await world.entries()
        await smtp_proxy.open()
        reopened = time.monotonic()
        mails = await world.wait_for_mails(8, timeout=60)
        recovered_in = time.monotonic() - reopened

        async def all_sent():
            entries = await world.entries()
            return len(entries) == 8 and all(e["status"] == "sent" for e in entries) and entries

        entries = await wait_until(all_sent, message="every entry sent")
        mails = await world.mails()

    assert len(mails) == 8
    assert len({m["MessageID"] for m in mails}) == 8, "none twice"
    assert world.received(mails, [*visitors, *hosts]) == {
        visitors[0].id: 1,
        visitors[1].id: 1,
        **{h.id: 2 for h in hosts},
    }
    refused = max(e.get("failed_attempts", 0) for e in entries_during)
    assert refused >= 5, f"the consumer kept retrying through the outage ({refused} refused attempts)"
    assert all(e["attempts"] == e["failed_attempts"] + 1 for e in entries), "each mail sent by exactly one attempt"
    assert await _records_in(world.infrastructure.kafka_bootstrap, world.match_found_topic + ".dlq") == 0
    print(
        f"\nSMTP outage {OUTAGE_S:.0f} s: {refused} refused attempts on the first mail; all 8 mails "
        f"in Mailpit {recovered_in:.1f} s after the relay came back"
    )
