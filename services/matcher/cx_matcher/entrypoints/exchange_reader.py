"""The exchange-topic reader: every replica reads every partition of cx.exchanges.exchange-events.v1 into its
bookings (domain/bookings.py), from the start at every start.

The topic is compacted and each record carries its exchange's state after the step, so reading it from the
start gives every exchange's latest state: there is nothing to snapshot, and a restart holds the same bookings
as before. At start-up it is read to its end before the visitor subscriber starts, so no list is made without
the bookings; then it is followed, and each batch goes to the handler (handlers.Matching.on_exchange_steps),
which re-matches the applications whose list a host's changed room changes. A record that breaks the contract is
dead-lettered here (once, whichever replica meets it first) and never reaches the handler.
"""

from __future__ import annotations

import time

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from cx_contracts.events import ExchangeAccepted
from cx_contracts.topics import EXCHANGE_EVENTS

from cx_matcher.adapters.dead_letters import DeadLetter
from cx_matcher.entrypoints.records import RecordDecoder
from cx_matcher.entrypoints.topic_reader import ReaderStatus, TopicReader
from cx_matcher.handlers import ExchangeEvent, Matching
from cx_matcher.settings import Settings


class ExchangeTopicReader(TopicReader):
    """Reads the exchange topic from the start, then follows it; a background worker of the service."""

    def __init__(self, settings: Settings, matching: Matching, *, broker: KafkaBroker, dead_letter: DeadLetter) -> None:
        super().__init__(
            settings, settings.topic(EXCHANGE_EVENTS), kind="exchanges", batch_max=settings.exchange_batch_max
        )
        self.matching = matching
        self.broker = broker
        self.decoder: RecordDecoder[ExchangeEvent] = RecordDecoder(dead_letter)
        self.status = ReaderStatus()

    async def catch_up(self) -> None:
        """Read the exchange topic from its start to its end offsets (a start-up hook)."""
        started = time.perf_counter()
        await self.broker.connect()  # to dead-letter a bad record met while catching up
        ends = await self._open()
        consumer = self._consumer
        assert consumer is not None
        for tp in self._partitions:
            await consumer.seek_to_beginning(tp)
        await self._read_until(ends, deadline=time.monotonic() + self.settings.catch_up_timeout_s)
        self._caught_up(started, bookings=len(self.matching.bookings))

    async def _apply(self, records: list[ConsumerRecord], *, rematch: bool) -> None:
        await self.matching.on_exchange_steps(await self.decoder.decode(records), rematch=rematch)


EXCHANGE_TOPIC_DESCRIPTION = (
    "Exchange steps (requested, accepted, declined, withdrawn, agreed, completed), each carrying the exchange's "
    "state. Every matcher replica reads every partition from the start at each start (the topic is compacted "
    "by exchange, so that gives every exchange's latest state): an accepted or agreed exchange holds its "
    "participants of the host's capacity on each of its days; a host with no stay of a visitor's length that "
    "has room for its participants is not proposed to it. When a step changes a host's room, the open "
    "applications whose list it changes get a MatchFound (trigger new-host): a full host leaves them, a host "
    "with room again enters those it fits. A record that does not honour the contract is copied once to the "
    "topic's `.dlq`."
)


def document_exchange_topic(broker: KafkaBroker, settings: Settings) -> None:
    """Declare the exchange topic on a broker used only to write the AsyncAPI document (never started)."""
    subscriber = broker.subscriber(
        settings.topic(EXCHANGE_EVENTS), title="exchange-events", description=EXCHANGE_TOPIC_DESCRIPTION
    )

    @subscriber
    async def on_exchange_step(step: ExchangeAccepted) -> None:  # pragma: no cover - never consumed
        raise RuntimeError("documentation only")
