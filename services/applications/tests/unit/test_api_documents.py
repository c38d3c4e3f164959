"""The committed OpenAPI and AsyncAPI documents describe the code as it is."""

from __future__ import annotations

import pytest
import yaml

from cx_kit.service_testing import InterfaceDocumentsSuite

from cx_applications.api_documents import DOCUMENTS

pytestmark = pytest.mark.unit


class TestApplicationsDocuments(InterfaceDocumentsSuite):
    documents = DOCUMENTS

    def test_the_asyncapi_document_shows_what_the_service_publishes_and_consumes_and_the_openapi_its_routes(self):
        asyncapi = yaml.safe_load(DOCUMENTS.asyncapi.read_text())
        addresses = {channel["address"] for channel in asyncapi["channels"].values()}
        assert addresses == {"cx.applications.visitor-answers.v1", "cx.matcher.match-found.v1"}
        actions = {operation["action"] for operation in asyncapi["operations"].values()}
        assert actions == {"send", "receive"}
        assert {"VisitorAnswersSubmitted", "MatchFound"} <= set(asyncapi["components"]["schemas"])
        openapi = DOCUMENTS.openapi.read_text()
        for path in (
            "/api/applications",
            "/api/applications/{application_id}",
            "/api/applications/{application_id}/matches",
            "/internal/contacts/applications/{application_id}",
        ):
            assert f'"{path}"' in openapi
