"""The single-document outbox: an aggregate's pending events live in its own MongoDB document.

A state change and the event that announces it are one `update_one` (the store has no multi-document
transactions), so either both are stored or neither. `OutboxRelay` later publishes each pending event
with the durable producer and only then removes it from the document. A relay that dies between the
two publishes the event again on its next pass; consumers are idempotent, so the repeat has no second effect.

Document fields the relay owns: `outbox` (list of pending entries, oldest first), `outbox_lease`
(which relay is publishing this document's entries, and until when).

The lease is what keeps a second replica's relay from publishing the same entries, perhaps after newer ones. So
a relay renews it before each entry and stops as soon as a renewal finds it gone (fenced out), and it gives up on
a publish that stalls past a third of the lease, leaving the entry for the lease's next holder. The default lease
(90 s) outlasts the producer's own delivery deadline (aiokafka's request timeout, 40 s), so a send given up on
has landed or failed before anyone else may publish. Consumers still drop a revision older than the one they
hold: a compacted topic can carry a replayed copy in any case.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from cx_contracts.codec import event_headers, event_topic, event_value, headers_as_text
from cx_contracts.events import Event, Withdrawal
from cx_kit.periodic import PeriodicTask

OUTBOX_FIELD = "outbox"
LEASE_FIELD = "outbox_lease"
DEFAULT_LEASE_S = 90.0

logger = logging.getLogger(__name__)


class PublishStalled(Exception):
    """A publish took longer than a third of the lease: given up on, so no other relay can overtake it."""


class OutboxEntry(BaseModel):
    """One event waiting to be published: where it goes, its key, its bytes and its headers."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    topic: str
    key: str
    value: str | None = Field(description="The JSON payload; None publishes a tombstone (compacted topics).")
    headers: dict[str, str] = Field(default_factory=dict)
    queued_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def to_document(self) -> dict[str, Any]:
        """The entry as stored inside the aggregate's document."""
        return self.model_dump(mode="python")


def outbox_entry(
    event: Event | Withdrawal, *, topic_namespace: str = "", traceparent: str | None = None
) -> OutboxEntry:
    """The outbox entry that publishes `event` (or its tombstone) on its contract topic."""
    value = event_value(event)
    return OutboxEntry(
        event_id=str(event.event_id),
        topic=topic_namespace + event_topic(event),
        key=event.key,
        value=value.decode() if value is not None else None,
        headers=headers_as_text(event_headers(event, traceparent)),
    )


def with_outbox(update: dict[str, Any], *entries: OutboxEntry) -> dict[str, Any]:
    """Add `entries` to a MongoDB update document, so the state change and its events are one write."""
    merged = {op: dict(fields) for op, fields in update.items()}
    merged.setdefault("$push", {})[OUTBOX_FIELD] = {"$each": [e.to_document() for e in entries]}
    return merged


class EventPublisher(Protocol):
    """What the relay needs from Kafka: a durable send that returns once the broker acknowledged."""

    async def publish_entry(self, entry: OutboxEntry) -> None: ...


class BrokerPublisher:
    """Publishes outbox entries through a FastStream Kafka broker (acks=all, idempotent; see cx_kit.kafka)."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    async def publish_entry(self, entry: OutboxEntry) -> None:
        body = entry.value.encode() if entry.value is not None else None
        await self._broker.publish(body, topic=entry.topic, key=entry.key.encode(), headers=dict(entry.headers))


class OutboxRelay:
    """Publishes every pending outbox entry of some collections, in order per document, then clears it."""

    def __init__(
        self,
        collections: Sequence[AsyncCollection],
        publisher: EventPublisher,
        *,
        poll_interval_s: float = 0.5,
        lease_s: float = DEFAULT_LEASE_S,
        batch_size: int = 100,
    ) -> None:
        self._collections = list(collections)
        self._publisher = publisher
        self._lease = timedelta(seconds=lease_s)
        self._publish_timeout_s = lease_s / 3
        self._batch_size = batch_size
        # A pass that drained documents is followed by the next at once: more may be waiting.
        self._loop = PeriodicTask("outbox-relay", poll_interval_s, self.run_once, again_while_busy=True)
        self.relay_id = uuid.uuid4().hex
        self.published = 0

    def wake(self) -> None:
        """Ask for a pass now (a repository calls this after a write, so events leave without waiting a poll)."""
        self._loop.wake()

    async def start(self) -> None:
        """Run passes in the background until `stop`."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop; a pass in progress is cancelled, and pending entries stay stored for the next start."""
        await self._loop.stop()

    async def pending_count(self) -> int:
        """How many documents have events waiting (exported as a metric and used by readiness)."""
        return sum([await c.count_documents(_PENDING) for c in self._collections])

    async def run_once(self) -> int:
        """One pass over every collection; returns how many documents it drained."""
        drained = 0
        for collection in self._collections:
            for _ in range(self._batch_size):
                document = await self._claim(collection)
                if document is None:
                    break
                await self._drain(collection, document)
                drained += 1
        return drained

    async def _claim(self, collection: AsyncCollection) -> dict[str, Any] | None:
        # A lease keeps two relays (replicas of one service) from publishing the same document at once.
        now = datetime.now(UTC)
        return await collection.find_one_and_update(
            {**_PENDING, "$or": [{LEASE_FIELD: None}, {f"{LEASE_FIELD}.until": {"$lt": now}}]},
            {"$set": {LEASE_FIELD: {"relay": self.relay_id, "until": now + self._lease}}},
            # No projection: FerretDB 1.x does not implement `fields` in findAndModify.
            return_document=ReturnDocument.AFTER,
        )

    async def _drain(self, collection: AsyncCollection, document: dict[str, Any]) -> None:
        entries = [OutboxEntry.model_validate(e) for e in document.get(OUTBOX_FIELD, [])]
        for entry in entries:
            if not await self._renew(collection, document["_id"]):
                logger.warning(
                    "outbox lease lost; the document's next holder publishes the rest",
                    extra={"document": str(document["_id"]), "relay": self.relay_id},
                )
                return
            try:
                await asyncio.wait_for(self._publisher.publish_entry(entry), timeout=self._publish_timeout_s)
            except TimeoutError:
                raise PublishStalled(f"publishing {entry.event_id} took over {self._publish_timeout_s:g} s") from None
            await self._clear(collection, document["_id"], entry.event_id)
            self.published += 1
        await collection.update_one(
            {"_id": document["_id"], f"{LEASE_FIELD}.relay": self.relay_id}, {"$set": {LEASE_FIELD: None}}
        )

    async def _renew(self, collection: AsyncCollection, document_id: Any) -> bool:
        # Guarded on holding it: a relay whose lease ran out and was taken over learns it here, before publishing.
        result = await collection.update_one(
            {"_id": document_id, f"{LEASE_FIELD}.relay": self.relay_id},
            {"$set": {f"{LEASE_FIELD}.until": datetime.now(UTC) + self._lease}},
        )
        return result.matched_count == 1

    async def _clear(self, collection: AsyncCollection, document_id: Any, event_id: str) -> None:
        # Writers only append, and entries leave in order, so the published entry is the first one: pop it,
        # guarded by its id so entries queued meanwhile stay. (A conditional $pull would read better, but
        # FerretDB 1.x matches $pull conditions only against whole values.)
        await collection.update_one(
            {"_id": document_id, f"{OUTBOX_FIELD}.0.event_id": event_id}, {"$pop": {OUTBOX_FIELD: -1}}
        )


# A document has pending events when its outbox array has a first element.
_PENDING: dict[str, Any] = {f"{OUTBOX_FIELD}.0": {"$exists": True}}
