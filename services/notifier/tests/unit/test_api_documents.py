"""The committed OpenAPI and AsyncAPI documents match the code."""

from __future__ import annotations

import pytest
import yaml

from cx_kit.api_documents import stale_documents

from cx_notifier import api_documents

pytestmark = pytest.mark.unit


def test_the_committed_interface_documents_are_current() -> None:
    stale = stale_documents(api_documents.documents())

    assert stale == [], f"regenerate with: {api_documents.REGENERATE}"


def test_the_asyncapi_document_shows_what_the_notifier_consumes_and_publishes_with_descriptions() -> None:
    document = yaml.safe_load(api_documents.documents()[api_documents.ASYNCAPI])
    channels = {c["address"]: c for c in document["channels"].values()}

    assert set(channels) == {
        "cx.matcher.match-found.v1",
        "cx.exchanges.exchange-events.v1",
        "cx.notifier.notification-sent.v1",
    }
    assert all(len(c["description"]) > 80 for c in channels.values())
    actions = {op["channel"]["$ref"].rsplit("/", 1)[1]: op["action"] for op in document["operations"].values()}
    assert sorted(actions.values()) == ["receive", "receive", "send"]
    assert {"MatchFound", "NotificationSent"} <= set(document["components"]["schemas"])
    assert {"ExchangeRequested", "ExchangeCompleted"} <= set(document["components"]["schemas"])


def test_the_openapi_document_has_the_status_route_and_the_operations_endpoints() -> None:
    import json

    document = json.loads(api_documents.documents()[api_documents.OPENAPI])

    assert {"/api/notifier/status", "/healthz", "/readyz"} <= set(document["paths"])
