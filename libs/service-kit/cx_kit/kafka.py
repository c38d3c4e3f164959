"""Kafka the way every service must use it: a durable producer, and subscribers that never lose or wedge.

FastStream's defaults are at-most-once (auto-commit before the handler) and aiokafka's producer
acknowledges on the leader alone; both are changed here, once, for every service:

- the producer waits for all in-sync replicas (acks=all) and is idempotent, so a retried send is not
  written twice;
- subscribers commit only after the handler returned (NACK_ON_ERROR: an unhandled error rewinds to the
  record instead of skipping it);
- `DeadLetterMiddleware` retries a failing record with backoff, then copies it to `<topic>.dlq` with the
  error in headers and lets the subscriber move on, so one poison record cannot stall a partition;
- except when what failed is the infrastructure (the store, the broker, a relay: `OUTAGE_ERRORS`): a good record
  must never be dead-lettered because a server was down, so the subscriber pauses and the record is delivered
  again, for as long as the outage lasts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
)
from faststream import AckPolicy, BaseMiddleware
from faststream.kafka import KafkaBroker
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_fixed,
)

from cx_contracts.codec import parse_event
from cx_contracts.errors import ContractError
from cx_contracts.events import AnyEvent
from cx_contracts.topics import TopicSpec, dead_letter_topic

logger = logging.getLogger(__name__)

# Headers added to a dead-lettered record; the original headers are kept alongside.
DLQ_ERROR_TYPE = "x-dlq-error-type"
DLQ_ERROR_MESSAGE = "x-dlq-error-message"
DLQ_ERROR_TRACE = "x-dlq-error-trace"
DLQ_SOURCE_TOPIC = "x-dlq-source-topic"
DLQ_SOURCE_PARTITION = "x-dlq-source-partition"
DLQ_SOURCE_OFFSET = "x-dlq-source-offset"
DLQ_ATTEMPTS = "x-dlq-attempts"
DLQ_FAILED_AT = "x-dlq-failed-at"
DLQ_SERVICE = "x-dlq-service"

# Subscribers commit after the handler; an error that escapes the dead-letter path rewinds the record.
RELIABLE_ACK_POLICY = AckPolicy.NACK_ON_ERROR


class PermanentError(Exception):
    """An error that retrying cannot cure (bad payload, broken contract): dead-letter at once."""


# Errors a retry cannot cure: the record itself is wrong.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentError,
    ContractError,
    ValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing record is retried before it is dead-lettered."""

    max_attempts: int = 5
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Backoff before attempt `attempt + 1` (exponential, capped)."""
        return min(self.backoff_max_s, self.backoff_initial_s * (2 ** (attempt - 1)))


def make_broker(
    bootstrap_servers: str,
    *,
    client_id: str,
    retry: RetryPolicy = RetryPolicy(),
    middlewares: Sequence[Any] = (),
    **kwargs: Any,
) -> KafkaBroker:
    """A broker whose producer is durable and whose subscribers are at-least-once with a dead-letter topic."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        ack_policy=RELIABLE_ACK_POLICY,
        middlewares=(*middlewares, DeadLetterMiddleware.factory(retry=retry, service=client_id)),
        # Our logger, not FastStream's coloured console one, so its lines leave as JSON like the rest.
        logger=kwargs.pop("logger", logging.getLogger("cx.broker")),
        **kwargs,
    )


# Errors of a server being unreachable, not of the record: the store (pymongo's ConnectionFailure covers a
# timed-out server selection and a lost connection), the broker, and sockets: refused, reset or timed out
# connections and unresolved names (the SMTP client's connect, disconnect and timeout errors subclass them).
# Not every OSError: a missing file is a defect, and its record goes the usual way.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
)


def is_outage(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says a server is unreachable (see OUTAGE_ERRORS)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _is_transient(error: BaseException) -> bool:
    # Only errors: a cancellation (a BaseException) must end the handler at once, as must a broken record.
    return isinstance(error, Exception) and not isinstance(error, PERMANENT_ERRORS)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else None
    logger.warning(
        "handler failed, retrying",
        extra={"attempt": state.attempt_number, "retry_in_s": delay, "error": repr(error)},
    )


class DeadLetterMiddleware(BaseMiddleware):
    """Retry a failing record with backoff; then publish it to `<topic>.dlq` with the error and move on."""

    retry: RetryPolicy = RetryPolicy()
    service: str = "cx"
    attempts: int = 1  # tries of this record's handler; FastStream makes one middleware per record

    @classmethod
    def factory(cls, *, retry: RetryPolicy, service: str) -> Callable[..., DeadLetterMiddleware]:
        """A middleware class bound to a retry policy, as FastStream instantiates one per message."""
        return type("BoundDeadLetterMiddleware", (cls,), {"retry": retry, "service": service})

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        """Run the handler; retry a transient failure with backoff, re-raise a permanent or the last one."""
        return await AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=lambda state: self.retry.delay(state.attempt_number),
            retry=retry_if_exception(_is_transient),
            before=self._count_attempt,
            before_sleep=_log_retry,
            reraise=True,
        )(call_next, msg)

    def _count_attempt(self, state: RetryCallState) -> None:
        self.attempts = state.attempt_number

    async def after_processed(
        self, exc_type: Any = None, exc_val: BaseException | None = None, exc_tb: Any = None
    ) -> bool:
        if exc_val is None or isinstance(exc_val, asyncio.CancelledError) or not isinstance(exc_val, Exception):
            return False
        record = self.msg
        if not isinstance(record, ConsumerRecord):
            return False  # batches are not used by this platform; let the ack policy decide
        if is_outage(exc_val):
            # Not the record's fault: pause, then let the ack policy rewind to it, until the server is back.
            logger.warning(
                "a server is unreachable; the record will be delivered again",
                extra={
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "error": repr(exc_val),
                },
            )
            await asyncio.sleep(self.retry.backoff_max_s)
            return False
        broker: KafkaBroker = self.context.get("broker")
        try:
            await publish_dead_letter(broker, record, exc_val, attempts=self.attempts, service=self.service)
        except Exception:
            # The record is not lost: the ack policy rewinds to it. Pause so an outage is not a hot loop.
            logger.exception("could not dead-letter a record; it will be redelivered")
            await asyncio.sleep(self.retry.backoff_max_s)
            return False
        logger.error(
            "record dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error": repr(exc_val),
            },
        )
        return True  # handled: the subscriber commits and moves on


def contract_decoder(*accepted: type[AnyEvent]) -> Callable[..., Awaitable[AnyEvent]]:
    """A subscriber's decoder that reads each record with the contract's own reader (headers, upcasters, the key
    checked against the payload) and accepts only the events `accepted`; anything else is a ContractError, which
    the dead-letter middleware sends to `<topic>.dlq` at once."""
    names = ", ".join(event.EVENT_TYPE for event in accepted)

    async def decode(message: Any, original_decoder: Any = None) -> AnyEvent:
        record = message.raw_message
        if isinstance(record, tuple):  # only a batch subscriber gets several; the platform reads one by one
            raise TypeError("a contract subscriber takes one record at a time")
        event = parse_event(record.topic, record.value, record.headers, key=record.key)
        if not isinstance(event, accepted):
            raise ContractError(f"{record.topic}: expected {names}, got {event.event_type}")
        return event

    return decode


async def publish_dead_letter(
    broker: KafkaBroker, record: ConsumerRecord, error: BaseException, *, attempts: int, service: str
) -> None:
    """Copy `record` to its topic's dead-letter topic, byte for byte, with the error in headers."""
    original = {name: value.decode("utf-8", "replace") for name, value in (record.headers or ())}
    headers = {
        **original,
        DLQ_ERROR_TYPE: f"{type(error).__module__}.{type(error).__qualname__}",
        DLQ_ERROR_MESSAGE: str(error)[:4000],
        DLQ_ERROR_TRACE: "".join(traceback.format_exception(error))[-4000:],
        DLQ_SOURCE_TOPIC: record.topic,
        DLQ_SOURCE_PARTITION: str(record.partition),
        DLQ_SOURCE_OFFSET: str(record.offset),
        DLQ_ATTEMPTS: str(attempts),
        DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
        DLQ_SERVICE: service,
    }
    # A keyed None is a tombstone; a keyless record keeps its (possibly empty) bytes.
    body = record.value if record.value is not None else (None if record.key is not None else b"")
    await broker.publish(body, topic=dead_letter_topic(record.topic), key=record.key, headers=headers)


def new_topics(
    specs: Iterable[TopicSpec], *, replication_factor: int = 1, min_insync_replicas: int | None = None
) -> list[NewTopic]:
    """The topics to create: each spec's partitions and config, replicated `replication_factor` times; with
    `min_insync_replicas`, a write (acks=all) is refused unless that many replicas have it, so a leader lost
    right after acknowledging cannot take an acknowledged event with it."""
    if min_insync_replicas is not None and not 1 <= min_insync_replicas <= replication_factor:
        raise ValueError(
            f"min_insync_replicas {min_insync_replicas} must be 1..replication_factor ({replication_factor})"
        )
    extra = {} if min_insync_replicas is None else {"min.insync.replicas": str(min_insync_replicas)}
    return [NewTopic(s.name, s.partitions, replication_factor, topic_configs={**s.config, **extra}) for s in specs]


async def ensure_topics(
    bootstrap_servers: str,
    specs: Iterable[TopicSpec],
    *,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create the topics that do not exist yet (see `new_topics`); returns those created. Existing topics are
    left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="cx-topics")
    # The broker may still be starting (a fresh local node, a pod next to it): keep knocking until the deadline.
    await AsyncRetrying(
        retry=retry_if_exception_type(KafkaConnectionError),
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(0.5),
        reraise=True,
    )(admin.start)
    try:
        existing = set(await admin.list_topics())
        wanted = [s for s in specs if s.name not in existing]
        if wanted:
            try:
                await admin.create_topics(
                    new_topics(wanted, replication_factor=replication_factor, min_insync_replicas=min_insync_replicas)
                )
            except TopicAlreadyExistsError:
                pass  # another process created them between our list and create
        return [s.name for s in wanted]
    finally:
        await admin.close()
