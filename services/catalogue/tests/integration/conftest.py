"""Fixtures of the catalogue's own tests: a catalogue of the test's own (fresh database, namespaced topics)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from cx_contracts.examples import host_entry_payload
from cx_contracts.topics import HOST_ANSWERS
from cx_kit.service_testing import RunningService, TokenIssuer, created, own_service, signed_in
from cx_kit.testing import Infrastructure

from cx_catalogue.app import create_app
from cx_catalogue.settings import Settings


@pytest.fixture
async def catalogue(infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[RunningService]:
    """The real catalogue app, lifespan running (broker, relay), with an HTTP client on it."""
    async with own_service(Settings, create_app, infrastructure, [HOST_ANSWERS], issuer=dev_issuer) as service:
        yield service


@pytest.fixture
def publish(catalogue: RunningService, dev_issuer: TokenIssuer) -> Callable[..., Awaitable[dict[str, Any]]]:
    """POST example host `index` (with overrides) to the catalogue, signed in as its organisation; returns the 201
    body with `owner`, the Authorization header of the entry's owner."""

    async def post(index: int = 0, **overrides: Any) -> dict[str, Any]:
        body = host_entry_payload(index, **overrides)
        owner = signed_in(dev_issuer, body)
        return {**await created(catalogue.client, "/api/catalogue/hosts", body, owner), "owner": owner}

    return post
