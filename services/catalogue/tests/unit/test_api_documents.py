"""The committed OpenAPI and AsyncAPI documents describe the code as it is."""

from __future__ import annotations

import pytest
import yaml

from cx_kit.api_documents import stale_documents

from cx_catalogue.api_documents import ASYNCAPI, OPENAPI, REGENERATE, documents

pytestmark = pytest.mark.unit


def test_the_committed_interface_documents_are_current():
    stale = stale_documents(documents())
    assert stale == [], f"stale: {[str(p) for p in stale]}; regenerate with: {REGENERATE}"


def test_the_asyncapi_document_shows_the_host_answers_topic_with_its_event_and_the_openapi_the_routes():
    asyncapi = yaml.safe_load(ASYNCAPI.read_text())
    [channel] = asyncapi["channels"].values()
    assert channel["address"] == "cx.catalogue.host-answers.v1" and "tombstone" in channel["description"]
    assert "HostAnswersSubmitted" in asyncapi["components"]["schemas"]
    assert "contact" not in asyncapi["components"]["schemas"]["HostAnswersSubmitted"]["properties"]
    openapi = OPENAPI.read_text()
    for path in ("/api/catalogue/hosts", "/api/catalogue/hosts/{host_id}", "/internal/contacts/hosts/{host_id}"):
        assert f'"{path}"' in openapi
