"""`make run`'s system: every service is up and ready on the real infrastructure, the gateway routes the public
API and the pages, and nothing internal."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SERVICES

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


PUBLIC_APIS = ("applications", "catalogue", "matcher")
WEB = "http://127.0.0.1:8105"


@pytest.mark.parametrize("service", PUBLIC_APIS)
async def test_the_gateway_serves_each_public_service_openapi_document(running_system, service):
    async with httpx.AsyncClient(base_url=running_system.gateway, timeout=10) as client:
        response = await client.get(f"/docs/{service}/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"].lower().endswith(service)


async def test_the_gateway_serves_the_web_pages_and_problem_details_for_unknown_api_paths(running_system):
    async with httpx.AsyncClient(base_url=running_system.gateway, timeout=10) as client:
        page = await client.get("/catalogue")
        unknown = await client.get("/api/nowhere")
    assert page.status_code == 200 and "<html" in page.text.lower() and "Host catalogue" in page.text
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/api/matcher/status", "/api/notifier/status", "/docs/notifier/openapi.json"])
async def test_the_operators_routes_answer_on_the_services_but_not_through_the_gateway(running_system, path):
    service = "matcher" if "matcher" in path else "notifier"
    async with httpx.AsyncClient(timeout=10) as client:
        direct = await client.get(running_system.services[service] + path.replace("/docs/notifier", ""))
        through = await client.get(running_system.gateway + path)
    assert direct.status_code == 200
    assert through.status_code == 404


async def test_the_web_pages_are_ready_once_the_apis_they_call_answer(running_system):
    async with httpx.AsyncClient(base_url=WEB, timeout=10) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"catalogue": "ok", "applications": "ok"}
