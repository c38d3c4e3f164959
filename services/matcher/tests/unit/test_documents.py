"""The committed AsyncAPI and OpenAPI documents are what the code produces."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cx_matcher.entrypoints import documents

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[4]


def test_the_committed_interface_documents_match_the_code() -> None:
    assert documents.stale(ROOT) == [], f"regenerate with: {documents.REGENERATE}"


def test_the_asyncapi_document_names_every_channel_the_matcher_uses() -> None:
    document = yaml.safe_load((ROOT / documents.ASYNCAPI_PATH).read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {
        "cx.catalogue.host-answers.v1",
        "cx.applications.visitor-answers.v1",
        "cx.matcher.match-found.v1",
    }
    assert all(channel.get("description") for channel in document["channels"].values())
    assert {"HostAnswersSubmitted", "MatchFound"} <= set(document["components"]["schemas"])


def test_the_openapi_document_holds_the_public_matcher_routes() -> None:
    import json

    document = json.loads((ROOT / documents.OPENAPI_PATH).read_text())
    assert {"/api/matcher/preview", "/api/matcher/status"} <= set(document["paths"])
    assert "post" in document["paths"]["/api/matcher/preview"]
