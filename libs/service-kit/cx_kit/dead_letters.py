"""Dead-lettered records, listed and moved back to their topic after a fix: `cx-dead-letters list|replay TOPIC`.

A subscriber copies a record it can never handle to `<topic>.dlq`, byte for byte, with the reason in `x-dlq-*`
headers (cx_kit.kafka). Once the cause is fixed (a consumer's defect, a contract upcaster), an operator lists
them and replays a chosen few, or all: each goes back to its source topic with its key, value and original
headers, and `x-replayed-from: <dlq topic>:<partition>:<offset>`. A record replayed once is not replayed again
(the source topic is read for those headers first), so running the same replay twice sends nothing twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from cx_contracts.topics import dead_letter_topic

REPLAYED_FROM = "x-replayed-from"
_DLQ_PREFIX = "x-dlq-"


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic: where it is, why it is there, and whether it was replayed."""

    partition: int
    offset: int
    key: str | None
    error_type: str
    error_message: str
    source_partition: str
    source_offset: str
    failed_at: str
    service: str
    replayed: bool

    @property
    def position(self) -> str:
        """`partition:offset`, as `replay --offset` takes it."""
        return f"{self.partition}:{self.offset}"


async def _read_all(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[ConsumerRecord]:
    # Every record up to the end offsets as they are when it starts. Without a group the consumer is given every
    # partition of the topic and starts at the beginning; nothing is committed anywhere.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        async with asyncio.timeout(timeout_s):
            # The partitions are given once the first metadata arrives; aiokafka has no event that tells it.
            while not consumer.assignment():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            partitions = sorted(consumer.assignment(), key=lambda tp: tp.partition)
            ends = await consumer.end_offsets(partitions)
            records: list[ConsumerRecord] = []

            async def behind() -> bool:
                return any([await consumer.position(tp) < ends[tp] for tp in partitions])

            while await behind():
                for batch in (await consumer.getmany(*partitions, timeout_ms=500)).values():
                    records.extend(r for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return records
    finally:
        await consumer.stop()


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {name: value.decode("utf-8", "replace") for name, value in (record.headers or ())}


async def _replayed(bootstrap: str, topic: str) -> set[str]:
    dlq = dead_letter_topic(topic)
    marks = (_headers(r).get(REPLAYED_FROM, "") for r in await _read_all(bootstrap, topic))
    return {mark.removeprefix(f"{dlq}:") for mark in marks if mark.startswith(f"{dlq}:")}


async def dead_letters(bootstrap: str, topic: str) -> list[tuple[DeadLetter, ConsumerRecord]]:
    """Every record of `topic`'s dead-letter topic, oldest first per partition, each with whether it was replayed."""
    replayed = await _replayed(bootstrap, topic)
    found = []
    for record in await _read_all(bootstrap, dead_letter_topic(topic)):
        headers = _headers(record)
        letter = DeadLetter(
            partition=record.partition,
            offset=record.offset,
            key=None if record.key is None else record.key.decode("utf-8", "replace"),
            error_type=headers.get("x-dlq-error-type", ""),
            error_message=headers.get("x-dlq-error-message", ""),
            source_partition=headers.get("x-dlq-source-partition", ""),
            source_offset=headers.get("x-dlq-source-offset", ""),
            failed_at=headers.get("x-dlq-failed-at", ""),
            service=headers.get("x-dlq-service", ""),
            replayed=f"{record.partition}:{record.offset}" in replayed,
        )
        found.append((letter, record))
    return found


async def replay(bootstrap: str, topic: str, chosen: Callable[[DeadLetter], bool]) -> list[DeadLetter]:
    """Send the chosen dead letters not replayed before back to `topic`; returns those sent, in order."""
    dlq = dead_letter_topic(topic)
    waiting = [(letter, record) for letter, record in await dead_letters(bootstrap, topic) if not letter.replayed]
    selected = [(letter, record) for letter, record in waiting if chosen(letter)]
    if not selected:
        return []
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for letter, record in selected:
            kept = [(n, v) for n, v in (record.headers or ()) if not n.startswith(_DLQ_PREFIX)]
            headers = [*kept, (REPLAYED_FROM, f"{dlq}:{letter.position}".encode())]
            await producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers)
    finally:
        await producer.stop()
    return [letter for letter, _ in selected]


def _selection(positions: Iterable[str], error_type: str | None, everything: bool) -> Callable[[DeadLetter], bool]:
    wanted = set(positions)
    if not (wanted or error_type or everything):
        raise typer.BadParameter("choose records: --offset PARTITION:OFFSET (repeatable), --error-type, or --all")
    return lambda letter: (
        everything or letter.position in wanted or (error_type is not None and letter.error_type == error_type)
    )


cli = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)
Bootstrap = Annotated[str, typer.Option("--bootstrap", envvar="CX_KAFKA_BOOTSTRAP_SERVERS", help="Kafka.")]
KAFKA = "127.0.0.1:9092"


@cli.command("list")
def list_command(
    topic: str, bootstrap: Bootstrap = KAFKA, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """The dead letters of TOPIC (its source topic's name): position, reason, whether replayed."""
    letters = [letter for letter, _ in asyncio.run(dead_letters(bootstrap, topic))]
    if as_json:
        typer.echo(json.dumps([asdict(letter) for letter in letters], indent=2))
        return
    for letter in letters:
        mark = "replayed" if letter.replayed else "waiting "
        typer.echo(f"{letter.position:>8}  {mark}  {letter.error_type}: {letter.error_message[:100]}")
    typer.echo(f"{len(letters)} dead letters, {sum(not letter.replayed for letter in letters)} not replayed")


@cli.command("replay")
def replay_command(
    topic: str,
    bootstrap: Bootstrap = KAFKA,
    offset: Annotated[
        list[str] | None, typer.Option("--offset", help="PARTITION:OFFSET of a dead letter; repeatable.")
    ] = None,
    error_type: Annotated[str | None, typer.Option("--error-type", help="Every dead letter of this type.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every dead letter not replayed yet.")] = False,
) -> None:
    """Send the chosen dead letters of TOPIC back to it (each at most once)."""
    sent = asyncio.run(replay(bootstrap, topic, _selection(offset or [], error_type, everything)))
    for letter in sent:
        typer.echo(f"replayed {letter.position} (key {letter.key})")
    typer.echo(f"{len(sent)} replayed to {topic}")
