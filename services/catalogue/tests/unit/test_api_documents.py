"""The committed OpenAPI and AsyncAPI documents describe the code as it is."""

from __future__ import annotations

import pytest
import yaml

from cx_kit.service_testing import InterfaceDocumentsSuite

from cx_catalogue.api_documents import DOCUMENTS

pytestmark = pytest.mark.unit


class TestCatalogueDocuments(InterfaceDocumentsSuite):
    documents = DOCUMENTS

    def test_the_asyncapi_document_shows_the_host_answers_topic_with_its_event_and_the_openapi_the_routes(self):
        asyncapi = yaml.safe_load(DOCUMENTS.asyncapi.read_text())
        [channel] = asyncapi["channels"].values()
        assert channel["address"] == "cx.catalogue.host-answers.v1" and "tombstone" in channel["description"]
        assert "HostAnswersSubmitted" in asyncapi["components"]["schemas"]
        assert "contact" not in asyncapi["components"]["schemas"]["HostAnswersSubmitted"]["properties"]
        openapi = DOCUMENTS.openapi.read_text()
        for path in ("/api/catalogue/hosts", "/api/catalogue/hosts/{host_id}", "/internal/contacts/hosts/{host_id}"):
            assert f'"{path}"' in openapi
