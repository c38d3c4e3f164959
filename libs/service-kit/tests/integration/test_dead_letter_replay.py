"""cx-dead-letters on the real broker: list the dead letters of a topic, replay chosen ones, each once."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from cx_kit.dead_letters import REPLAYED_FROM, cli, dead_letters
from cx_kit.kafka import DLQ_ERROR_TYPE, make_broker
from cx_kit.testing import headers_of, read_topic, unique, wait_until

pytestmark = pytest.mark.integration


async def _true(value):
    return value


async def test_dead_letters_are_listed_with_their_reason_and_replayed_once_with_their_original_headers(
    infrastructure, kafka_topic
):
    topic = await kafka_topic()
    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("dlq-replay"))
    handled: list[int] = []

    @broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def broken_consumer(body: dict) -> None:
        raise ValueError(f"cannot handle {body['n']} yet")  # a defect: every record is dead-lettered

    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap)
    await producer.start()
    try:
        for n in range(3):
            value = json.dumps({"n": n}).encode()
            await producer.send_and_wait(
                topic, value=value, key=f"k{n}".encode(), headers=[("event_id", f"e{n}".encode())]
            )
    finally:
        await producer.stop()
    async with broker:
        await broker.start()
        await read_topic(infrastructure.kafka_bootstrap, f"{topic}.dlq", until=lambda r: len(r) >= 3)

    found = [letter for letter, _ in await dead_letters(infrastructure.kafka_bootstrap, topic)]
    assert sorted(letter.key for letter in found) == ["k0", "k1", "k2"]
    assert all(letter.error_type == "builtins.ValueError" and not letter.replayed for letter in found)
    runner, kafka = CliRunner(), ["--bootstrap", infrastructure.kafka_bootstrap]

    async def invoke(*args: str):  # the command runs its own event loop: on a thread, as from a shell
        return await asyncio.to_thread(runner.invoke, cli, [*args, *kafka])

    listed = await invoke("list", topic)
    assert listed.exit_code == 0, listed.output
    assert "3 dead letters, 3 not replayed" in listed.output and "cannot handle" in listed.output

    first = next(letter for letter in found if letter.key == "k0")
    one = await invoke("replay", topic, "--offset", first.position)
    assert one.exit_code == 0 and "1 replayed" in one.output, one.output
    rest = await invoke("replay", topic, "--all")
    assert "2 replayed" in rest.output, "the one replayed before is not sent again"
    again = await invoke("replay", topic, "--all")
    assert "0 replayed" in again.output
    assert (await invoke("replay", topic)).exit_code != 0, "choosing nothing is refused, not taken as everything"

    records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 6)
    replayed = [r for r in records if REPLAYED_FROM in headers_of(r)]
    assert sorted(r.key for r in replayed) == [b"k0", b"k1", b"k2"], "each once"
    for record in replayed:
        headers = headers_of(record)
        assert headers["event_id"] == "e" + record.key.decode()[1:], "the original headers travel back"
        assert DLQ_ERROR_TYPE not in headers and not any(name.startswith("x-dlq-") for name in headers)
        assert json.loads(record.value) == {"n": int(record.key.decode()[1:])}, "the value byte for byte"

    # After the fix the consumer handles what was replayed.
    fixed = make_broker(infrastructure.kafka_bootstrap, client_id=unique("fixed"))

    @fixed.subscriber(topic, group_id=unique("g2"), auto_offset_reset="earliest")
    async def fixed_consumer(body: dict) -> None:
        handled.append(body["n"])

    async with fixed:
        await fixed.start()
        await wait_until(lambda: _true(len(handled) >= 6), message="the originals and the replayed copies")
    assert sorted(handled) == [0, 0, 1, 1, 2, 2]
    assert all(letter.replayed for letter, _ in await dead_letters(infrastructure.kafka_bootstrap, topic))
