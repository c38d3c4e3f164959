"""Fixtures of the applications service's own tests: a service of the test's own, and a stand-in matcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from cx_contracts.examples import application_payload
from cx_contracts.topics import MATCH_FOUND, VISITOR_ANSWERS
from cx_kit.kafka import make_broker
from cx_kit.service_testing import QUICK_DEAD_LETTERS, RunningService, created, own_service
from cx_kit.testing import Infrastructure, unique

from cx_applications.app import create_app
from cx_applications.settings import Settings


@pytest.fixture
async def applications(infrastructure: Infrastructure) -> AsyncIterator[RunningService]:
    """The real applications app, lifespan running (broker, relay, match-found subscriber), with an HTTP client."""
    topics = [VISITOR_ANSWERS, MATCH_FOUND]
    async with own_service(Settings, create_app, infrastructure, topics, **QUICK_DEAD_LETTERS) as service:
        yield service


@pytest.fixture
def submit(applications: RunningService) -> Callable[..., Awaitable[dict[str, Any]]]:
    """POST example visitor `index` (with overrides) to the service; returns the 201 body."""

    async def post(index: int = 0, **overrides: Any) -> dict[str, Any]:
        return await created(applications.client, "/api/applications", application_payload(index, **overrides))

    return post


@pytest.fixture
async def match_publisher(infrastructure: Infrastructure) -> AsyncIterator[KafkaBroker]:
    """A producer for match-found records, as the matcher would publish them."""
    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("matcher-stand-in"))
    async with broker:
        await broker.start()
        yield broker
