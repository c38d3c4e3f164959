"""Dead-lettering of host records, once per record although every replica reads every host record."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection

from cx_kit.kafka import publish_dead_letter

logger = logging.getLogger(__name__)


class HostDeadLetters:
    """Copies a bad host record to `<topic>.dlq` unless some replica already did (a marker in MongoDB).

    Visitor records need no marker: one replica of the consumer group reads each of them.
    """

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
        logger.error("host record dead-lettered", extra={"topic": record.topic, "partition": record.partition,
                                                         "offset": record.offset, "error": str(error)[:500]})
        return True
