"""From Kafka records to the events the handlers take: each record parsed on its own, broken ones dead-lettered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, cast

from aiokafka import ConsumerRecord

from cx_contracts.codec import parse_event, read_event_headers
from cx_contracts.errors import ContractError

from cx_matcher.adapters.dead_letters import DeadLetter
from cx_matcher.handlers import EventT, Received


class RecordDecoder(Generic[EventT]):
    """Decodes the records of one topic; a record that breaks the contract is dead-lettered and left out."""

    def __init__(self, dead_letter: DeadLetter) -> None:
        self._dead_letter = dead_letter
        self.dead_lettered = 0  # by this replica

    async def decode(self, records: Sequence[ConsumerRecord]) -> list[Received[EventT]]:
        """The events of `records`, in order, with the partition, offset and trace context each came with."""
        decoded = []
        for record in records:
            try:
                event = parse_event(record.topic, record.value, record.headers, key=record.key)
            except ContractError as error:
                if await self._dead_letter(record, error):
                    self.dead_lettered += 1
                continue
            # The topic decides the event types parse_event accepts: the ones this decoder is for.
            decoded.append(
                Received(
                    cast(EventT, event), record.partition, record.offset, read_event_headers(record.headers).traceparent
                )
            )
        return decoded


def next_offsets(records: Sequence[ConsumerRecord]) -> dict[int, int]:
    """Per partition, the offset after the last of `records` (dead-lettered ones included)."""
    offsets: dict[int, int] = {}
    for record in records:
        offsets[record.partition] = max(offsets.get(record.partition, 0), record.offset + 1)
    return offsets
