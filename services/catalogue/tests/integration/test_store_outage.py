"""An unreachable store: requests get a 503 problem (never a 500), and readiness says so."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from cx_contracts.examples import host_entry_payload

import cx_kit.mongo
from cx_kit.service_testing import free_port, serving

from cx_catalogue.app import create_app
from cx_catalogue.settings import Settings

pytestmark = pytest.mark.integration


async def test_with_the_store_unreachable_requests_are_503_and_readiness_fails(infrastructure, monkeypatch):
    # Nothing listens on the port; a short server-selection wait keeps the test quick.
    monkeypatch.setitem(cx_kit.mongo.CLIENT_OPTIONS, "serverSelectionTimeoutMS", 300)
    settings = Settings(
        environment="test",
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap,
        mongo_url=SecretStr(f"mongodb://127.0.0.1:{free_port()}"),
        topic_namespace="toutage.",
    )
    async with serving(create_app(settings)) as client:
        for response in (
            await client.post("/api/catalogue/hosts", json=host_entry_payload(0)),
            await client.get("/api/catalogue/hosts"),
            await client.get("/api/catalogue/hosts/7d7c2a7e-3c1b-4a8e-9a55-6f2d8d0b9c11"),
        ):
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "5"
        assert (await client.get("/readyz")).json()["checks"]["mongodb"] == "down"
