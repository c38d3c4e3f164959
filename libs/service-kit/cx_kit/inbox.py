"""The inbox: which events a consumer has already applied, so a redelivered event has no second effect.

Kafka delivers at least once (a relay may publish twice; a rebalance redelivers), so every consumer
asks the inbox before its side effect and records the event after it. The record is written after the
effect: a crash in between repeats the effect once, never skips it. Effects that can be made
conditional on their own document (for example a `revision` guard) need not even that window.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pymongo.asynchronous.collection import AsyncCollection

T = TypeVar("T")


class Inbox:
    """Processed event ids of one consumer, in a MongoDB collection keyed `<consumer>:<event_id>`."""

    def __init__(self, collection: AsyncCollection, consumer: str) -> None:
        self._collection = collection
        self._consumer = consumer

    def _key(self, event_id: str) -> str:
        return f"{self._consumer}:{event_id}"

    async def seen(self, event_id: str) -> bool:
        """True when this consumer already applied `event_id`."""
        return await self._collection.find_one({"_id": self._key(event_id)}, projection={"_id": 1}) is not None

    async def record(self, event_id: str) -> None:
        """Remember that `event_id` was applied (idempotent)."""
        await self._collection.update_one(
            {"_id": self._key(event_id)},
            {"$setOnInsert": {"consumer": self._consumer, "event_id": event_id, "recorded_at": datetime.now(UTC)}},
            upsert=True,
        )

    async def apply_once(self, event_id: str, effect: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        """Run `effect` unless `event_id` was applied before; returns (applied now, effect's result)."""
        if await self.seen(event_id):
            return False, None
        result = await effect()
        await self.record(event_id)
        return True, result

    async def prune(self, older_than: timedelta) -> int:
        """Forget records older than `older_than` (the store has no TTL indexes); returns how many."""
        cutoff = datetime.now(UTC) - older_than
        result = await self._collection.delete_many({"consumer": self._consumer, "recorded_at": {"$lt": cutoff}})
        return result.deleted_count
