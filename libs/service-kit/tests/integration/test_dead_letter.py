"""Subscribers on the real broker: poison goes to the dead-letter topic, the partition keeps moving."""

from __future__ import annotations

import pytest
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from cx_kit.kafka import DLQ_ATTEMPTS, DLQ_ERROR_TYPE, DLQ_SOURCE_OFFSET, DLQ_SOURCE_TOPIC, RetryPolicy, make_broker
from cx_kit.service_testing import topic_record_count
from cx_kit.testing import Infrastructure, headers_of, read_topic, unique, wait_until

pytestmark = pytest.mark.integration


class Greeting(BaseModel):
    id: str
    text: str


async def _true(value):
    return value


def _broker(infrastructure: Infrastructure, name: str, *, max_attempts: int) -> KafkaBroker:
    """A broker as every service makes one, with backoff short enough that the test does not wait."""
    retry = RetryPolicy(max_attempts=max_attempts, backoff_initial_s=0.01)
    return make_broker(infrastructure.kafka_bootstrap, client_id=unique(name), retry=retry)


async def test_a_poison_record_lands_on_the_dead_letter_topic_and_the_next_record_is_processed(
    infrastructure, kafka_topic
):
    topic = await kafka_topic()
    broker = _broker(infrastructure, "dlq-test", max_attempts=3)
    handled: list[Greeting] = []

    @broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def on_greeting(greeting: Greeting) -> None:
        handled.append(greeting)

    async with broker:
        await broker.start()
        await broker.publish(b'{"id": "1", "text": ', topic=topic, key=b"k")  # not JSON at all
        await broker.publish({"id": "2"}, topic=topic, key=b"k")  # JSON, but breaks the contract
        await broker.publish({"id": "3", "text": "hello"}, topic=topic, key=b"k")
        await wait_until(lambda: _true(handled), message="the good record handled")

    assert [g.id for g in handled] == ["3"]
    dead = await read_topic(infrastructure.kafka_bootstrap, f"{topic}.dlq", until=lambda r: len(r) >= 2)
    assert [r.value for r in dead] == [b'{"id": "1", "text": ', b'{"id":"2"}'], "copied byte for byte"
    for offset, record in enumerate(dead):
        headers = headers_of(record)
        assert headers[DLQ_SOURCE_TOPIC] == topic
        assert headers[DLQ_SOURCE_OFFSET] == str(offset)
        assert headers[DLQ_ATTEMPTS] == "1", "a broken payload is not retried"
        assert record.key == b"k"
    assert "ValidationError" in headers_of(dead[1])[DLQ_ERROR_TYPE]


async def test_a_transient_failure_is_retried_and_processed_once_without_dead_lettering(infrastructure, kafka_topic):
    topic = await kafka_topic()
    broker = _broker(infrastructure, "retry-test", max_attempts=4)
    attempts: list[str] = []
    done: list[str] = []

    @broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def flaky(greeting: Greeting) -> None:
        attempts.append(greeting.id)
        if len(attempts) < 3:
            raise ConnectionError("store briefly unreachable")
        done.append(greeting.id)

    async with broker:
        await broker.start()
        await broker.publish({"id": "a", "text": "x"}, topic=topic, key=b"a")
        await broker.publish({"id": "b", "text": "y"}, topic=topic, key=b"a")
        await wait_until(lambda: _true(len(done) == 2), message="both handled")

    assert attempts == ["a", "a", "a", "b"]
    assert done == ["a", "b"]


async def test_a_record_that_keeps_failing_is_dead_lettered_after_the_configured_attempts(infrastructure, kafka_topic):
    topic = await kafka_topic()
    broker = _broker(infrastructure, "exhaust-test", max_attempts=3)
    attempts: list[str] = []

    @broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def always_fails(greeting: Greeting) -> None:
        attempts.append(greeting.id)
        if greeting.id == "bad":
            raise RuntimeError("smtp relay refused")

    async with broker:
        await broker.start()
        await broker.publish({"id": "bad", "text": "x"}, topic=topic, key=b"a")
        await broker.publish({"id": "good", "text": "y"}, topic=topic, key=b"a")
        await wait_until(lambda: _true("good" in attempts), message="the next record reached")

    assert attempts == ["bad", "bad", "bad", "good"]
    dead = await read_topic(infrastructure.kafka_bootstrap, f"{topic}.dlq", until=lambda r: len(r) >= 1)
    headers = headers_of(dead[0])
    assert headers[DLQ_ATTEMPTS] == "3"
    assert headers[DLQ_ERROR_TYPE] == "builtins.RuntimeError"
    assert "smtp relay refused" in headers["x-dlq-error-message"]


async def test_a_record_failing_for_an_outage_is_paused_and_delivered_again_never_dead_lettered(
    infrastructure, kafka_topic
):
    # The store down for longer than every retry: before, the record went to the DLQ and was committed.
    from pymongo.errors import ServerSelectionTimeoutError

    topic = await kafka_topic()
    retry = RetryPolicy(max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.05)
    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("outage-test"), retry=retry)
    attempts: list[str] = []
    done: list[str] = []

    @broker.subscriber(topic, group_id=unique("g"), auto_offset_reset="earliest")
    async def store_down_for_a_while(greeting: Greeting) -> None:
        attempts.append(greeting.id)
        if len(attempts) <= 7:  # more than three rounds of two attempts each
            try:
                raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")
            except ServerSelectionTimeoutError as error:
                raise RuntimeError("could not save the run") from error  # wrapped, as a handler may
        done.append(greeting.id)

    async with broker:
        await broker.start()
        await broker.publish({"id": "a", "text": "x"}, topic=topic, key=b"a")
        await broker.publish({"id": "b", "text": "y"}, topic=topic, key=b"a")
        await wait_until(lambda: _true(done == ["a", "b"]), message="both handled once the store is back")

    assert attempts == ["a"] * 8 + ["b"], "the record is delivered again until it succeeds, the next one after"
    assert await topic_record_count(infrastructure.kafka_bootstrap, f"{topic}.dlq") == 0, "nothing dead-lettered"
