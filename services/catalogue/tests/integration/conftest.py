"""Fixtures: a catalogue service of the test's own (fresh database, namespaced topics) on the real components."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from cx_contracts.topics import HOST_ANSWERS

from cx_kit.mongo import connect_mongo
from cx_kit.service_testing import SERVICE_TEST_TOKEN, ensure_namespaced_topics, serving, topic_namespace
from cx_kit.testing import unique

from cx_catalogue.app import create_app
from cx_catalogue.settings import Settings


async def fresh_settings(infrastructure, **overrides) -> Settings:
    """Settings of a catalogue with its own database and topics (created here)."""
    namespace = topic_namespace()
    await ensure_namespaced_topics(infrastructure.kafka_bootstrap, namespace, [HOST_ANSWERS])
    values = dict(
        environment="test",
        topic_namespace=namespace,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap,
        mongo_url=SecretStr(infrastructure.mongo_url),
        mongo_database=unique("catalogue").replace("-", "_"),
        internal_token=SecretStr(SERVICE_TEST_TOKEN),
        outbox_poll_interval_s=0.2,
        log_json=False,
    )
    values.update(overrides)
    return Settings(**values)


async def drop_database(infrastructure, name: str) -> None:
    """Remove a test's database."""
    client = connect_mongo(infrastructure.mongo_url, "cx-tests")
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
async def settings(infrastructure) -> AsyncIterator[Settings]:
    """A fresh catalogue's settings; its database is dropped afterwards."""
    value = await fresh_settings(infrastructure)
    yield value
    await drop_database(infrastructure, value.mongo_database)


@pytest.fixture
async def catalogue(settings):
    """The real catalogue app, lifespan running (broker, relay), with an HTTP client on it."""
    app = create_app(settings)
    async with serving(app) as client:
        client.app = app
        yield client


@pytest.fixture
def publish():
    """POST example host `index` (with overrides) through a client; returns the 201 body."""
    from cx_contracts.examples import host_entry_payload

    async def post(client, index: int = 0, **overrides) -> dict:
        response = await client.post("/api/catalogue/hosts", json=host_entry_payload(index, **overrides))
        assert response.status_code == 201, response.text
        return response.json()

    return post


@pytest.fixture(scope="module")
async def module_catalogue(infrastructure):
    """One real catalogue app shared by a whole test module (for many cheap requests): (client, app, settings)."""
    value = await fresh_settings(infrastructure)
    app = create_app(value)
    async with serving(app) as client:
        yield client, app, value
    await drop_database(infrastructure, value.mongo_database)
