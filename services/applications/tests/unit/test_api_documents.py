"""The committed OpenAPI and AsyncAPI documents describe the code as it is."""

from __future__ import annotations

import pytest
import yaml

from cx_kit.api_documents import stale_documents

from cx_applications.api_documents import ASYNCAPI, OPENAPI, REGENERATE, documents

pytestmark = pytest.mark.unit


def test_the_committed_interface_documents_are_current():
    stale = stale_documents(documents())
    assert stale == [], f"stale: {[str(p) for p in stale]}; regenerate with: {REGENERATE}"


def test_the_asyncapi_document_shows_what_the_service_publishes_and_consumes_and_the_openapi_its_routes():
    asyncapi = yaml.safe_load(ASYNCAPI.read_text())
    addresses = {channel["address"] for channel in asyncapi["channels"].values()}
    assert addresses == {"cx.applications.visitor-answers.v1", "cx.matcher.match-found.v1"}
    actions = {operation["action"] for operation in asyncapi["operations"].values()}
    assert actions == {"send", "receive"}
    assert {"VisitorAnswersSubmitted", "MatchFound"} <= set(asyncapi["components"]["schemas"])
    openapi = OPENAPI.read_text()
    for path in ("/api/applications", "/api/applications/{application_id}",
                 "/api/applications/{application_id}/matches", "/internal/contacts/applications/{application_id}"):
        assert f'"{path}"' in openapi
