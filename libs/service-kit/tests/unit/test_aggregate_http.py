"""ETags and If-Match, write outcomes as problem details, and an unreachable store as 503."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pymongo.errors import ServerSelectionTimeoutError

from cx_kit.aggregate_http import etag, expected_revision, install_handlers, written
from cx_kit.aggregates import AggregateRecord, NotFound, StaleRevision, Written
from cx_kit.http import PROBLEM_JSON, build_http_app

pytestmark = pytest.mark.unit

RECORD = AggregateRecord(
    id="r1",
    owner="o",
    organisation={},
    contact=None,
    answers={},
    revision=4,
    status="active",
    created_at=datetime(2027, 1, 1, tzinfo=UTC),
    updated_at=datetime(2027, 1, 1, tzinfo=UTC),
)


def _client() -> TestClient:
    app = build_http_app(title="t", version="1", registry=CollectorRegistry(), readiness={}, max_request_bytes=4096)
    install_handlers(app)
    router = APIRouter()

    @router.put("/records/{outcome}")
    async def write(outcome: str, revision: Annotated[int, Depends(expected_revision)]) -> dict:
        result = {"written": Written(RECORD), "stale": StaleRevision(revision, 4), "missing": NotFound()}[outcome]
        return {"revision": written(result, what="record").revision, "if_match": revision}

    @router.get("/outage")
    async def outage() -> None:
        raise ServerSelectionTimeoutError("127.0.0.1:1: connection refused")

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_an_etag_is_the_quoted_revision():
    assert etag(7) == '"7"'


def test_a_write_naming_the_current_revision_goes_through():
    response = _client().put("/records/written", headers={"If-Match": '"4"'})
    assert response.status_code == 200 and response.json() == {"revision": 4, "if_match": 4}


def test_a_write_without_if_match_is_428_naming_the_header():
    response = _client().put("/records/written")
    assert response.status_code == 428
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in response.json()["errors"]] == ["If-Match"]


@pytest.mark.parametrize("value", ["4", "*", 'W/"4"', '"0"', '"-1"', '"abc"', '"4", "5"', '"' + "9" * 19 + '"', ""])
def test_a_malformed_if_match_is_422_naming_the_header(value):
    response = _client().put("/records/written", headers={"If-Match": value})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["If-Match"]


def test_a_stale_revision_is_412_with_the_current_etag_and_revision():
    response = _client().put("/records/stale", headers={"If-Match": '"3"'})
    assert response.status_code == 412
    assert response.headers["etag"] == '"4"'
    body = response.json()
    assert body["current_revision"] == 4 and body["status"] == 412 and "revision 4" in body["detail"]


def test_a_missing_record_is_404():
    response = _client().put("/records/missing", headers={"If-Match": '"1"'})
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM_JSON


def test_an_unreachable_store_is_503_with_retry_after_and_no_internals():
    response = _client().get("/outage")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "127.0.0.1" not in response.text
