"""The HTTP conventions every service inherits: problem details naming the field, size limits, probes."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict

from cx_kit.http import PROBLEM_JSON, build_http_app, field_path

pytestmark = pytest.mark.unit


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int
    inner: Inner


def _client(*, ready: bool = True, limit: int = 4096, broker: bool = True) -> TestClient:
    async def check() -> bool:
        return ready

    async def broker_check() -> bool:
        return broker

    app = build_http_app(
        title="t",
        version="1",
        registry=CollectorRegistry(),
        readiness={"store": check},
        reported={"broker": broker_check},
        max_request_bytes=limit,
    )
    router = APIRouter()

    @router.post("/documents")
    async def create(document: Document) -> Document:
        return document

    @router.get("/missing")
    async def missing() -> None:
        raise HTTPException(404, "No such document")

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (("body", "answers", "ecosystems", 0), "answers.ecosystems[0]"),
        (("query", "page"), "page"),
        (("body",), "body"),
        (("body", "organisation", "country"), "organisation.country"),
    ],
)
def test_a_validation_location_reads_as_the_field_a_client_sent(location, expected):
    assert field_path(location) == expected


def test_invalid_input_gets_a_problem_naming_each_field_at_fault():
    response = _client().post("/documents", json={"count": "many", "inner": {"tags": "x", "extra": 1}})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {"count", "inner.tags", "inner.extra"}
    assert "count" in body["detail"] and body["status"] == 422


def test_a_body_over_the_limit_gets_413_as_a_problem_whether_declared_or_streamed():
    client = _client(limit=1024)
    big = b'{"count": 1, "inner": {"tags": ["' + b"x" * 5000 + b'"]}}'
    declared = client.post("/documents", content=big, headers={"content-type": "application/json"})

    def chunks():
        yield big[:500]
        yield big[500:]

    streamed = client.post("/documents", content=chunks(), headers={"content-type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM_JSON


def test_http_errors_and_unexpected_errors_are_problems_that_leak_nothing():
    client = _client()
    missing = client.get("/missing")
    assert missing.status_code == 404 and missing.json()["detail"] == "No such document"
    boom = client.get("/boom")
    assert boom.status_code == 500
    assert boom.headers["content-type"] == PROBLEM_JSON
    assert "secret" not in boom.text


def test_readiness_is_503_while_a_dependency_is_down_and_liveness_stays_ok():
    down = _client(ready=False)
    assert down.get("/readyz").status_code == 503
    assert down.get("/readyz").json() == {"status": "unavailable", "checks": {"store": "down", "broker": "ok"}}
    assert down.get("/healthz").status_code == 200
    assert _client(ready=True).get("/readyz").status_code == 200


def test_a_reported_dependency_down_is_shown_but_keeps_the_service_in_traffic():
    # The broker is reported, not needed: writes wait in the outbox, so Kafka down must not stop them.
    degraded = _client(broker=False).get("/readyz")
    assert degraded.status_code == 200
    assert degraded.json() == {"status": "degraded", "checks": {"store": "ok", "broker": "down"}}
    both = _client(ready=False, broker=False).get("/readyz")
    assert both.status_code == 503 and both.json()["checks"] == {"store": "down", "broker": "down"}


def test_every_service_is_taken_out_of_traffic_by_the_store_only():
    from cx_kit.runtime import ServiceParts
    from cx_kit.settings import ServiceSettings

    needed, reported = ServiceParts(ServiceSettings(environment="test")).readiness()
    assert set(needed) == {"mongodb"}
    assert set(reported) == {"kafka"}


def test_metrics_are_exposed_in_prometheus_text_format():
    client = _client()
    client.post("/documents", json={"count": 1, "inner": {"tags": []}})
    metrics = client.get("/metrics/")
    assert metrics.status_code == 200
    assert "http_requests_total" in metrics.text


def test_a_method_no_route_answers_is_405_naming_every_method_the_path_has():
    app = build_http_app(title="t", version="1", registry=CollectorRegistry(), readiness={}, max_request_bytes=4096)
    router = APIRouter()

    async def nothing() -> dict[str, str]:
        return {}

    # Three routes on one path, as the owned-record routes are: Starlette's own Allow named the first one's only.
    router.add_api_route("/records/{record_id}", nothing, methods=["GET"])
    router.add_api_route("/records/{record_id}", nothing, methods=["PUT"])
    router.add_api_route("/records/{record_id}", nothing, methods=["DELETE"])
    app.include_router(router)

    refused = TestClient(app).options("/records/1")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "DELETE, GET, PUT"
    assert refused.headers["content-type"] == "application/problem+json"
