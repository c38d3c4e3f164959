"""`make run`'s system: every service is up and ready on the real infrastructure, the gateway routes to each."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import SERVICES

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_every_service_is_alive_and_ready_with_broker_and_store_reachable(running_system, service):
    async with httpx.AsyncClient(base_url=running_system.services[service], timeout=10) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"kafka": "ok", "mongodb": "ok"}
        metrics = await client.get("/metrics/")
        assert metrics.status_code == 200 and "python_info" in metrics.text


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_the_gateway_serves_each_service_openapi_document(running_system, service):
    async with httpx.AsyncClient(base_url=running_system.gateway, timeout=10) as client:
        response = await client.get(f"/docs/{service}/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"].lower().endswith(service)


async def test_the_gateway_serves_the_web_front_end_and_problem_details_for_unknown_api_paths(running_system):
    async with httpx.AsyncClient(base_url=running_system.gateway, timeout=10) as client:
        page = await client.get("/")
        unknown = await client.get("/api/nowhere")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
