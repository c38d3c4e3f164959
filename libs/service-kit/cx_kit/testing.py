"""Pytest fixtures and probes for tests on the real components (a pytest plugin: `pytest_plugins`).

The `infrastructure` fixture uses the local Kafka, FerretDB and Mailpit when they already answer, and
otherwise starts them with deploy/local/infra.sh (and stops what it started at the end of the session).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Infrastructure:
    """Where the real components answer."""

    kafka_bootstrap: str = os.environ.get("CX_TEST_KAFKA", "127.0.0.1:9092")
    mongo_url: str = os.environ.get("CX_TEST_MONGO", "mongodb://127.0.0.1:27017")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = int(os.environ.get("CX_TEST_SMTP_PORT", "1025"))
    mailpit_url: str = os.environ.get("CX_TEST_MAILPIT", "http://127.0.0.1:8025")

    def endpoints(self) -> list[tuple[str, int]]:
        kafka_host, kafka_port = self.kafka_bootstrap.split(",")[0].rsplit(":", 1)
        mongo_host_port = self.mongo_url.split("//", 1)[1].split("/", 1)[0]
        mongo_host, mongo_port = mongo_host_port.rsplit(":", 1)
        mail_host_port = self.mailpit_url.split("//", 1)[1].split("/", 1)[0]
        mail_host, mail_port = mail_host_port.rsplit(":", 1)
        return [
            (kafka_host, int(kafka_port)),
            (mongo_host, int(mongo_port)),
            (self.smtp_host, self.smtp_port),
            (mail_host, int(mail_port)),
        ]


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unique(prefix: str) -> str:
    """A random name for a test's own topic, group, id or database."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def wait_until(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 20.0,
    interval: float = 0.1,
    message: str = "condition",
) -> T:
    """Poll `probe` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value: {value!r})")
        await asyncio.sleep(interval)


async def read_topic(
    bootstrap: str, topic: str, *, until: Callable[[list[ConsumerRecord]], bool], timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Every record of `topic` from the beginning, read until `until(records)` holds (or fail after timeout)."""
    # Without a group the consumer owns every partition and, with nothing committed, starts at the beginning.
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        records: list[ConsumerRecord] = []
        while not until(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out reading {topic}; got {len(records)} records")
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    """A record's headers as text."""
    return {name: value.decode() for name, value in (record.headers or ())}


def _start_infrastructure() -> bool:
    script = REPO_ROOT / "deploy" / "local" / "infra.sh"
    subprocess.run(["bash", str(script), "up"], check=True, cwd=REPO_ROOT)
    return True


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """The real Kafka, FerretDB and Mailpit: reused when running, started (and later stopped) otherwise."""
    infra = Infrastructure()
    started = False
    if not all(port_answers(h, p) for h, p in infra.endpoints()):
        started = _start_infrastructure()
    yield infra
    if started and os.environ.get("CX_KEEP_INFRA") != "1":
        subprocess.run(["bash", str(REPO_ROOT / "deploy" / "local" / "infra.sh"), "down"], check=False, cwd=REPO_ROOT)


@pytest.fixture
async def mongo_database(infrastructure: Infrastructure) -> AsyncIterator[Any]:
    """A fresh database on the real store, dropped after the test."""
    from cx_kit.mongo import connect_mongo

    client = connect_mongo(infrastructure.mongo_url, "cx-tests")
    name = unique("test").replace("-", "_")
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
async def kafka_topic(infrastructure: Infrastructure) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """A factory of fresh topics (with their dead-letter twin) on the real broker."""
    from cx_contracts.topics import TopicSpec
    from cx_kit.kafka import ensure_topics

    async def make(prefix: str = "cx.test", partitions: int = 1, **config: str) -> str:
        spec = TopicSpec(unique(prefix), key="id", config=dict(config), partitions=partitions)
        await ensure_topics(infrastructure.kafka_bootstrap, [spec, spec.dead_letter])
        return spec.name

    yield make
