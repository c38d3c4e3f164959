"""Fixtures of the applications service's own tests: a service of the test's own, and a stand-in matcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from cx_contracts.examples import application_payload
from cx_contracts.topics import MATCH_FOUND, VISITOR_ANSWERS
from cx_kit.kafka import make_broker
from cx_kit.service_testing import QUICK_DEAD_LETTERS, RunningService, TokenIssuer, created, own_service, signed_in
from cx_kit.testing import Infrastructure, unique

from cx_applications.app import create_app
from cx_applications.settings import Settings


@pytest.fixture
async def applications(infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[RunningService]:
    """The real applications app, lifespan running (broker, relay, match-found subscriber), with an HTTP client."""
    topics = [VISITOR_ANSWERS, MATCH_FOUND]
    async with own_service(
        Settings, create_app, infrastructure, topics, issuer=dev_issuer, **QUICK_DEAD_LETTERS
    ) as service:
        yield service


@pytest.fixture
def submit(applications: RunningService, dev_issuer: TokenIssuer) -> Callable[..., Awaitable[dict[str, Any]]]:
    """POST example visitor `index` (with overrides) to the service, signed in as its organisation; returns the
    201 body with `owner`, the Authorization header of the application's owner."""

    async def post(index: int = 0, **overrides: Any) -> dict[str, Any]:
        body = application_payload(index, **overrides)
        owner = signed_in(dev_issuer, body)
        return {**await created(applications.client, "/api/applications", body, owner), "owner": owner}

    return post


@pytest.fixture
async def match_publisher(infrastructure: Infrastructure) -> AsyncIterator[KafkaBroker]:
    """A producer for match-found records, as the matcher would publish them."""
    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("matcher-stand-in"))
    async with broker:
        await broker.start()
        yield broker
