"""The host-topic reader: every replica reads every partition of cx.catalogue.host-answers.v1 into its index.

No consumer group: the host catalogue is state replicated to each replica, not work split between them
(entrypoints/topic_reader.py). The reader assigns itself all partitions, restores the newest snapshot (index,
profiles, and the offsets they cover) and reads only what came after; at start-up it reads up to the end
offsets before the visitor subscriber starts, so no application is matched against a half-loaded catalogue.
Then it follows the topic, handing each batch to the handler (handlers.Matching.on_host_answers, which
re-matches open applications as hosts arrive), and writes a snapshot every `snapshot_interval_s` while hosts
change, and once more at shutdown. A record that breaks the contract is dead-lettered here and never reaches
the handler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from cx_contracts.events import HostAnswersSubmitted
from cx_contracts.topics import HOST_ANSWERS

from cx_matcher.adapters.dead_letters import DeadLetter
from cx_matcher.adapters.snapshots import SnapshotInfo, SnapshotStore
from cx_matcher.entrypoints.records import RecordDecoder, next_offsets
from cx_matcher.entrypoints.topic_reader import ReaderStatus, TopicReader
from cx_matcher.handlers import HostEvent, Matching
from cx_matcher.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class HostReaderStatus(ReaderStatus):
    """What GET /api/matcher/status reports about the host topic and snapshots."""

    restored_from: str | None = None
    restored_hosts: int = 0
    restore_seconds: float | None = None
    last_snapshot: SnapshotInfo | None = None
    snapshot_failures: int = 0


class HostTopicReader(TopicReader):
    """Restores, catches up with and then follows the host topic; a background worker of the service."""

    def __init__(
        self,
        settings: Settings,
        matching: Matching,
        *,
        broker: KafkaBroker,
        dead_letter: DeadLetter,
        snapshots: SnapshotStore | None,
    ) -> None:
        super().__init__(settings, settings.topic(HOST_ANSWERS), kind="hosts", batch_max=settings.host_batch_max)
        self.matching = matching
        self.broker = broker
        self.decoder: RecordDecoder[HostEvent] = RecordDecoder(dead_letter)
        self.snapshots = snapshots
        self.status: HostReaderStatus = HostReaderStatus()
        self._snapshot_mark: tuple[int, dict[int, int]] | None = None
        self._last_snapshot_at = time.monotonic()
        self._recheck_after = 0.0

    # -- start-up --------------------------------------------------------------------------------------

    async def catch_up(self) -> None:
        """Restore the newest snapshot, then read the host topic up to its end offsets (a start-up hook)."""
        started = time.perf_counter()
        # The producer is needed to dead-letter a bad host record met while catching up.
        await self.broker.connect()
        await self._restore()
        ends = await self._open()
        consumer = self._consumer
        assert consumer is not None
        index = self.matching.index
        if any(index.offsets.get(tp.partition, 0) > ends[tp] for tp in self._partitions):
            # The snapshot covers records the topic no longer has (it was recreated): start from scratch.
            logger.warning("snapshot is ahead of the host topic; rebuilding the index from the topic")
            await self.matching.clear_index()
            self.status.restored_from = None
        for tp in self._partitions:
            if tp.partition in index.offsets:
                consumer.seek(tp, index.offsets[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        positions = await self._read_until(ends, deadline=time.monotonic() + self.settings.catch_up_timeout_s)
        await self.matching.cover({tp.partition: offset for tp, offset in positions.items()})
        self._caught_up(started, hosts=len(self.matching.index))

    async def _apply(self, records: list[ConsumerRecord], *, rematch: bool) -> None:
        await self.matching.on_host_answers(
            await self.decoder.decode(records), covered=next_offsets(records), rematch=rematch
        )

    async def _restore(self) -> None:
        if self.snapshots is None:
            return
        started = time.perf_counter()
        found = self.snapshots.newest_readable(self._incompatibility)
        if found is None:
            return
        path, header, index_bytes = found
        await self.matching.restore_index(header, index_bytes)
        index = self.matching.index
        self._snapshot_mark = (index.changes, dict(index.offsets))
        self.status.restored_from = str(path)
        self.status.restored_hosts = len(index)
        self.status.restore_seconds = round(time.perf_counter() - started, 3)
        logger.info(
            "index restored from snapshot",
            extra={"path": str(path), "hosts": len(index), "seconds": self.status.restore_seconds},
        )

    def _incompatibility(self, header: dict[str, Any]) -> str | None:
        """Why a snapshot cannot serve this configuration, or None when it can."""
        expected = {
            "model": self.settings.model_name,
            "dimension": self.matching.ranking.encoder.dimension,
            "kind": self.settings.index_kind,
            "topic": self.topic,
        }
        for key, value in expected.items():
            if header.get(key) != value:
                return f"{key} is {header.get(key)!r}, this service uses {value!r}"
        return None

    # -- running ---------------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop following, write a last snapshot and checkpoint, close the consumer."""
        await self._stop_following()
        try:
            await self.snapshot_and_checkpoint(force=True)
        except Exception:
            logger.exception("could not write the shutdown snapshot")
        await self._close()

    async def _after_step(self) -> None:
        if self.matching.rematch_pending and time.monotonic() >= self._recheck_after:
            await self._recheck()
        if time.monotonic() - self._last_snapshot_at >= self.settings.snapshot_interval_s:
            await self.snapshot_and_checkpoint()

    async def _recheck(self) -> None:
        # A re-match that failed (the broker or the store) is tried again soon, not only at the next checkpoint,
        # so an entering host's MatchFound is late by the outage, not by a snapshot interval; hosts keep being
        # applied meanwhile, a pause apart.
        try:
            await self.matching.recheck()
        except Exception:
            self._recheck_after = time.monotonic() + self.settings.consumer_backoff_max_s
            logger.exception("re-matching failed again; retrying", extra={"in_s": self.settings.consumer_backoff_max_s})

    async def snapshot_and_checkpoint(self, *, force: bool = False) -> SnapshotInfo | None:
        """Write a snapshot if hosts changed since the last one (or `force`), and checkpoint the applications."""
        self._last_snapshot_at = time.monotonic()
        await self.matching.checkpoint()
        if self.snapshots is None or not self.status.ready:
            return None
        index = self.matching.index
        mark = (index.changes, dict(index.offsets))
        if self._snapshot_mark == mark and not (force and self.status.last_snapshot is None):
            return None
        # Taken on the event loop in one go (the index changes only on it), written on a worker thread.
        header, index_bytes = index.snapshot_state()
        header.update(model=self.settings.model_name, topic=self.topic)
        try:
            info = await asyncio.to_thread(self.snapshots.write, header, index_bytes)
        except Exception:
            self.status.snapshot_failures += 1
            raise
        self._snapshot_mark = mark
        self.status.last_snapshot = info
        logger.info("index snapshot written", extra={"path": str(info.path), "hosts": info.hosts})
        return info


HOST_TOPIC_DESCRIPTION = (
    "Host answers (HostAnswersSubmitted, or a tombstone when a host is withdrawn or erased). Every matcher "
    "replica reads every partition into its own FAISS index: manual partition assignment, no consumer group, "
    "starting from the offsets stored in its newest index snapshot. A submitted host is added or replaced "
    "(its expertise embedded once); a tombstone removes it, and a removed host is never proposed again. A new "
    "or revised host is checked against the open applications this replica owns: a MatchFound with trigger "
    "new-host follows only where it enters an application's list. A record that does not honour the contract "
    "is copied once (whichever replica meets it first) to the topic's `.dlq`."
)


def document_host_topic(broker: KafkaBroker, settings: Settings) -> None:
    """Declare the host topic on a broker used only to write the AsyncAPI document (never started).

    The live reader is a plain consumer (it seeks to snapshot offsets and waits for end offsets, which a
    FastStream subscriber does not expose), so the document declares its channel here.
    """
    subscriber = broker.subscriber(
        settings.topic(HOST_ANSWERS), title="host-answers", description=HOST_TOPIC_DESCRIPTION
    )

    @subscriber
    async def on_host_answers(host: HostAnswersSubmitted) -> None:  # pragma: no cover - never consumed
        raise RuntimeError("documentation only")
