"""The visitor-answers subscriber: one consumer group shared by all replicas, work split by partition.

Records come in batches (up to `visitor_batch_max`), so answers that wait are embedded together; one
waiting alone is handled at once. Each record is parsed on its own: a malformed one goes to
`<topic>.dlq` and the rest of the batch goes to the handler (handlers.Matching.on_visitor_answers). The
group's rebalance listener hands the open applications of a partition to its new owner.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from pydantic import TypeAdapter, WithJsonSchema

from cx_contracts.events import VisitorAnswersSubmitted
from cx_contracts.topics import VISITOR_ANSWERS, ConsumerGroups

from cx_matcher.adapters.dead_letters import DeadLetter
from cx_matcher.entrypoints.records import RecordDecoder
from cx_matcher.handlers import Matching, VisitorEvent
from cx_matcher.settings import Settings

DESCRIPTION = (
    "Visitor answers (VisitorAnswersSubmitted, or a tombstone when an application is withdrawn or erased). "
    "Every matcher replica joins the consumer group `cx-matcher.visitor-answers`; each record is matched by the "
    "replica owning its partition, which publishes one MatchFound (trigger new-application or "
    "revised-application) keyed by application_id. A redelivered record, or one whose revision was already "
    "matched, publishes nothing. A tombstone makes the matcher forget the open application. A record that "
    "does not honour the contract is copied to the topic's `.dlq` with the error in x-dlq-* headers."
)


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema with its `$defs` references replaced by the definitions themselves."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items() if key != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


# The handler receives the raw records (a tombstone has no body to decode); the document shows what one
# record carries: a VisitorAnswersSubmitted.
VisitorRecords = Annotated[list[Any], WithJsonSchema(_inline_refs(TypeAdapter(VisitorAnswersSubmitted).json_schema()))]


def visitor_group(settings: Settings) -> str:
    """The consumer group, namespaced like the topics, so parallel environments never share it."""
    return settings.topic_namespace + ConsumerGroups.MATCHER_VISITORS


class VisitorPartitions(ConsumerRebalanceListener):
    """Hands open applications over when visitor-topic partitions change owner."""

    def __init__(self, matching: Matching, topic: str) -> None:
        self.matching = matching
        self.topic = topic

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.matching.release(tp.partition for tp in revoked if tp.topic == self.topic)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.matching.take_over(tp.partition for tp in assigned if tp.topic == self.topic)


async def _raw_records(message: Any, original_decoder: Any = None) -> list[ConsumerRecord]:
    return list(message.raw_message)


def register_visitor_subscriber(
    broker: KafkaBroker,
    settings: Settings,
    handle: Callable[[list[ConsumerRecord]], Awaitable[None]],
    listener: ConsumerRebalanceListener | None = None,
) -> BatchSubscriber:
    """Subscribe `handle` to batches of visitor-answers records; returns the subscriber."""
    subscriber = broker.subscriber(
        settings.topic(VISITOR_ANSWERS),
        batch=True,
        group_id=visitor_group(settings),
        max_records=settings.visitor_batch_max,
        # FastStream's batch subscriber sleeps this long again after a poll that found nothing, so a record
        # arriving then waits for it: kept short (an idle replica wakes about 50 times a second for it).
        batch_timeout_ms=10,
        auto_offset_reset="earliest",  # a new group matches every open application on the compacted topic
        listener=listener,
        decoder=_raw_records,
        title="visitor-answers",
        description=DESCRIPTION,
    )

    @subscriber
    async def on_visitor_answers(records: VisitorRecords) -> None:
        await handle(records)

    return subscriber


class VisitorSubscriber:
    """The running service's visitor-answers subscriber: decodes each batch and hands it to the handler."""

    def __init__(self, broker: KafkaBroker, settings: Settings, matching: Matching, dead_letter: DeadLetter) -> None:
        self.topic = settings.topic(VISITOR_ANSWERS)
        self.decoder: RecordDecoder[VisitorEvent] = RecordDecoder(dead_letter)
        self._matching = matching
        self.subscriber = register_visitor_subscriber(
            broker, settings, self.handle, listener=VisitorPartitions(matching, self.topic)
        )

    async def handle(self, records: list[ConsumerRecord]) -> None:
        """Match a batch of records."""
        await self._matching.on_visitor_answers(await self.decoder.decode(records))

    async def progress(self) -> tuple[list[int], int]:
        """The partitions this replica owns and how many records on them wait."""
        consumer = self.subscriber.consumer
        if consumer is None:
            return [], 0
        partitions, lag = [], 0
        for tp in sorted(consumer.assignment(), key=lambda tp: tp.partition):
            partitions.append(tp.partition)
            highwater = consumer.highwater(tp)
            if highwater is not None:
                with contextlib.suppress(Exception):  # the partition moved while asking
                    lag += max(0, highwater - await consumer.position(tp))
        return partitions, lag
