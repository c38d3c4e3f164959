"""Dead-lettering: a record that breaks the contract is copied to `<topic>.dlq` with the error in headers.

Visitor records are read by one replica of the consumer group each; host and exchange records by every
replica, so one of those is dead-lettered once, by whichever replica meets it first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection

from cx_kit.kafka import publish_dead_letter

logger = logging.getLogger(__name__)

# Dead-letter one record with the error that broke it; False when it had been dead-lettered before.
DeadLetter = Callable[[ConsumerRecord, BaseException], Awaitable[bool]]


class VisitorDeadLetters:
    """Copies a bad visitor record to `<topic>.dlq` (no marker: one replica of the group reads each record)."""

    def __init__(self, broker: KafkaBroker, service: str) -> None:
        self._broker = broker
        self._service = service

    async def send(self, record: ConsumerRecord, error: BaseException) -> bool:
        """Dead-letter `record` with `error`."""
        await publish_dead_letter(self._broker, record, error, attempts=1, service=self._service)
        return True


class ReplicatedDeadLetters:
    """Copies a bad record of a topic every replica reads (hosts, exchanges) to `<topic>.dlq` unless some replica
    already did (a marker in MongoDB)."""

    def __init__(self, broker: KafkaBroker, markers: AsyncCollection, service: str) -> None:
        self._broker = broker
        self._markers = markers
        self._service = service

    async def send(self, record: ConsumerRecord, error: BaseException) -> bool:
        """Dead-letter `record` with `error`; False when it had been dead-lettered before."""
        marker = f"{record.topic}:{record.partition}:{record.offset}"
        if await self._markers.find_one({"_id": marker}, projection={"_id": 1}) is not None:
            return False
        await publish_dead_letter(self._broker, record, error, attempts=1, service=self._service)
        await self._markers.update_one(
            {"_id": marker}, {"$setOnInsert": {"at": datetime.now(UTC), "error": type(error).__name__}}, upsert=True
        )
        logger.error(
            "record dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error": str(error)[:500],
            },
        )
        return True
