"""Reading a topic whose records are state every replica holds (the hosts, the bookings): all its partitions.

No consumer group: the reader assigns itself every partition, reads up to the end offsets at start-up (before
the visitor subscriber starts), then follows the topic in the background, handing each batch to `_apply`. A
batch that cannot be applied (the broker, the store) is applied again after a pause until it is, never
skipped. The host reader (host_reader.py) and the exchange reader (exchange_reader.py) are the two kinds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from tenacity import AsyncRetrying, RetryCallState, wait_exponential

from cx_matcher.settings import Settings

logger = logging.getLogger(__name__)

# A catch-up poll that returns nothing for this long while partitions look behind means the records there
# were compacted away (or are aborted transactions): the reader counts itself caught up.
STALL_S = 5.0


@dataclass
class ReaderStatus:
    """What GET /api/matcher/status reports about a topic every replica reads."""

    ready: bool = False
    catch_up_records: int = 0
    catch_up_seconds: float | None = None
    positions: dict[int, int] = field(default_factory=dict)
    end_offsets: dict[int, int] = field(default_factory=dict)

    @property
    def lag(self) -> int:
        """Records not yet read."""
        return sum(max(0, end - self.positions.get(p, 0)) for p, end in self.end_offsets.items())


class TopicReader:
    """Reads every partition of one topic: up to its end at start-up, then following it (a background worker)."""

    status: ReaderStatus

    def __init__(self, settings: Settings, topic: str, *, kind: str, batch_max: int) -> None:
        self.settings = settings
        self.topic = topic
        self.kind = kind
        self.batch_max = batch_max
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._task: asyncio.Task[None] | None = None

    async def _apply(self, records: list[ConsumerRecord], *, rematch: bool) -> None:
        """Hand a batch of records (in order per partition) to the handler."""
        raise NotImplementedError

    async def _after_step(self) -> None:
        """What the reader does after each batch it follows (the host reader: rechecks and snapshots)."""

    async def _open(self) -> dict[TopicPartition, int]:
        """Start the consumer on every partition of the topic; returns their end offsets."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            client_id=f"{self.settings.service_name}-{self.kind}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        partitions = await self._topic_partitions()
        await consumer.start()
        self._consumer = consumer
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(self._partitions)
        ends = await consumer.end_offsets(self._partitions)
        self.status.end_offsets = {tp.partition: ends[tp] for tp in self._partitions}
        return ends

    async def _topic_partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            client_id=f"{self.settings.service_name}-{self.kind}-admin",
        )
        await admin.start()
        try:
            described = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        partitions = [
            p["partition"]
            for t in described
            if t["topic"] == self.topic and not t["error_code"]
            for p in t["partitions"]
        ]
        if not partitions:
            raise RuntimeError(f"{self.kind} topic {self.topic} does not exist; create the topics before the matcher")
        return partitions

    async def _read_until(self, ends: dict[TopicPartition, int], *, deadline: float) -> dict[TopicPartition, int]:
        """Read and apply (without re-matching) up to `ends`; returns the positions reached."""
        consumer = self._consumer
        assert consumer is not None
        last_progress = time.monotonic()
        while True:
            positions = {tp: await consumer.position(tp) for tp in self._partitions}
            self._note_positions(positions)
            behind = [tp for tp in self._partitions if positions[tp] < ends[tp]]
            if not behind:
                return positions
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {self.topic} to its end within {self.settings.catch_up_timeout_s}s")
            batch = await consumer.getmany(*behind, timeout_ms=500, max_records=self.batch_max)
            records = in_order(batch)
            if records:
                last_progress = time.monotonic()
                self.status.catch_up_records += len(records)
                await self._apply(records, rematch=False)
            elif time.monotonic() - last_progress > STALL_S:
                logger.warning(
                    "topic partitions stalled below their end offsets; counted as caught up",
                    extra={"topic": self.topic, "partitions": [tp.partition for tp in behind]},
                )
                return positions

    def _caught_up(self, started: float, **held: int) -> None:
        """Mark the reader ready, `started` (perf_counter) being when its catch-up began, and log what it holds."""
        self.status.catch_up_seconds = round(time.perf_counter() - started, 3)
        self.status.ready = True
        logger.info(
            f"{self.kind} topic caught up",
            extra={**held, "records": self.status.catch_up_records, "seconds": self.status.catch_up_seconds},
        )

    def _note_positions(self, positions: dict[TopicPartition, int]) -> None:
        self.status.positions = {tp.partition: offset for tp, offset in positions.items()}

    async def start(self) -> None:
        """Follow the topic in the background (a worker: runs once the broker is up)."""
        self._task = asyncio.create_task(self._follow(), name=f"{self.kind}-topic-reader")

    async def _stop_following(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def stop(self) -> None:
        """Stop following and close the consumer."""
        await self._stop_following()
        await self._close()

    async def _follow(self) -> None:
        while True:
            # A step that fails (the broker, a snapshot) is logged and taken again after a pause.
            await self._retrying(f"{self.kind} topic reader failed; continuing")(self._follow_step)

    async def _follow_step(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        batch = await consumer.getmany(timeout_ms=1000, max_records=self.batch_max)
        records = in_order(batch)
        if records:
            # The batch is applied again until it is, never skipped.
            await self._retrying(f"{self.kind} records could not be applied; retrying")(
                self._apply, records, rematch=True
            )
        self._note_positions({tp: await consumer.position(tp) for tp in self._partitions})
        self.status.end_offsets = {
            tp.partition: consumer.highwater(tp) or self.status.end_offsets.get(tp.partition, 0)
            for tp in self._partitions
        }
        await self._after_step()

    def _retrying(self, message: str) -> AsyncRetrying:
        """Retry for as long as it takes, backing off as the broker's subscribers do; cancelling stops it."""

        def log(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            logger.error(message, exc_info=error)

        return AsyncRetrying(
            wait=wait_exponential(
                multiplier=self.settings.consumer_backoff_initial_s, max=self.settings.consumer_backoff_max_s
            ),
            before_sleep=log,
            reraise=True,
        )


def in_order(batch: dict[TopicPartition, list[ConsumerRecord]]) -> list[ConsumerRecord]:
    """A fetch's records, partition by partition, each in offset order."""
    return [record for tp in sorted(batch, key=lambda tp: tp.partition) for record in batch[tp]]
