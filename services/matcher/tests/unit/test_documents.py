"""The committed AsyncAPI and OpenAPI documents are what the code produces."""

from __future__ import annotations

import pytest
import yaml

from cx_kit.api_documents import stale_documents

from cx_matcher import api_documents as documents

pytestmark = pytest.mark.unit


def test_the_committed_interface_documents_match_the_code() -> None:
    assert stale_documents(documents.documents()) == [], f"regenerate with: {documents.REGENERATE}"


def test_the_asyncapi_document_names_every_channel_the_matcher_uses() -> None:
    document = yaml.safe_load(documents.ASYNCAPI.read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {
        "cx.catalogue.host-answers.v1",
        "cx.applications.visitor-answers.v1",
        "cx.matcher.match-found.v1",
        "cx.exchanges.exchange-events.v1",
    }
    assert all(channel.get("description") for channel in document["channels"].values())
    assert {"HostAnswersSubmitted", "MatchFound"} <= set(document["components"]["schemas"])


def test_the_openapi_document_holds_the_public_matcher_routes() -> None:
    import json

    document = json.loads(documents.OPENAPI.read_text())
    assert {"/api/matcher/preview", "/api/matcher/status"} <= set(document["paths"])
    assert "post" in document["paths"]["/api/matcher/preview"]
