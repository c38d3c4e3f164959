"""Fixtures: an applications service of the test's own (fresh database, namespaced topics) on the real components."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from cx_contracts.topics import MATCH_FOUND, VISITOR_ANSWERS

from cx_kit.mongo import connect_mongo
from cx_kit.service_testing import SERVICE_TEST_TOKEN, ensure_namespaced_topics, serving, topic_namespace
from cx_kit.testing import unique

from cx_applications.app import create_app
from cx_applications.settings import Settings


async def fresh_settings(infrastructure, **overrides) -> Settings:
    """Settings of an applications service with its own database and topics (created here)."""
    namespace = topic_namespace()
    await ensure_namespaced_topics(infrastructure.kafka_bootstrap, namespace, [VISITOR_ANSWERS, MATCH_FOUND])
    values = dict(
        environment="test",
        topic_namespace=namespace,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap,
        mongo_url=SecretStr(infrastructure.mongo_url),
        mongo_database=unique("applications").replace("-", "_"),
        internal_token=SecretStr(SERVICE_TEST_TOKEN),
        outbox_poll_interval_s=0.2,
        consumer_backoff_initial_s=0.01,
        consumer_max_attempts=2,
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
    """A fresh applications service's settings; its database is dropped afterwards."""
    value = await fresh_settings(infrastructure)
    yield value
    await drop_database(infrastructure, value.mongo_database)


@pytest.fixture
async def applications(settings):
    """The real applications app, lifespan running (broker, relay, match-found subscriber), with an HTTP client."""
    app = create_app(settings)
    async with serving(app) as client:
        client.app = app
        yield client


@pytest.fixture(scope="module")
async def module_applications(infrastructure):
    """One real applications app shared by a whole test module: (client, app, settings)."""
    value = await fresh_settings(infrastructure)
    app = create_app(value)
    async with serving(app) as client:
        yield client, app, value
    await drop_database(infrastructure, value.mongo_database)


@pytest.fixture
def submit():
    """POST example visitor `index` (with overrides) through a client; returns the 201 body."""
    from cx_contracts.examples import application_payload

    async def post(client, index: int = 0, **overrides) -> dict:
        response = await client.post("/api/applications", json=application_payload(index, **overrides))
        assert response.status_code == 201, response.text
        return response.json()

    return post


@pytest.fixture
async def match_publisher(infrastructure):
    """A producer for match-found records, as the matcher would publish them."""
    from cx_kit.kafka import make_broker

    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("matcher-stand-in"))
    async with broker:
        await broker.start()
        yield broker
