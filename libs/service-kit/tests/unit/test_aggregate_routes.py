"""The owner routes and the contact look-up are built from their description: paths, operation names, texts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from cx_contracts.api import HostEntryCreate, HostEntryCreated, HostEntryPublic, HostEntryUpdate, Page
from cx_kit.aggregate_routes import (
    ContactLookup,
    Operation,
    OwnedAggregateRoutes,
    contacts_router,
    owned_aggregate_router,
)
from cx_kit.api_documents import REPO_ROOT, ServiceDocuments
from cx_kit.ownership import Ownership
from cx_kit.settings import OwnedRecordSettings, ServiceSettings

pytestmark = pytest.mark.unit


class ThingOwned(HostEntryPublic):
    contact: dict[str, str]


class ThingsPage(Page):
    items: list[ThingOwned]


def _routes(*, public_read: bool) -> OwnedAggregateRoutes:
    return OwnedAggregateRoutes(
        path="/api/things/items",
        list_path="/api/things/mine",
        id_field="item_id",
        what="thing",
        tag="things",
        create_body=HostEntryCreate,
        created=HostEntryCreated,
        update_body=HostEntryUpdate,
        public=HostEntryPublic,
        owned=ThingOwned,
        owned_page=ThingsPage,
        public_read=public_read,
        create=Operation("make_thing", "Make a thing", "Makes it.", "Made."),
        read=Operation("read_thing", "Read a thing", "Reads it.", "The thing."),
        replace=Operation("change_thing", "Change a thing", "Changes it.", "Changed."),
        withdraw=Operation("drop_thing", "Drop a thing", "Drops it.", "Dropped."),
        listing=Operation("my_things", "My things", "Lists them.", "A page of things."),
        contact=ContactLookup("host", "Who to write to about a thing.", "Unknown thing."),
    )


def _openapi(routes: OwnedAggregateRoutes) -> dict[str, Any]:
    app = FastAPI()
    repository: Any = None  # nothing is called: only the routes' description is read
    settings = OwnedRecordSettings(
        environment="test", internal_token=SecretStr("a-real-internal-secret-of-32-characters")
    )
    app.include_router(owned_aggregate_router(routes, repository, Ownership.of(settings), settings.partnerships))
    app.include_router(contacts_router(routes, repository, settings))
    return app.openapi()


def test_each_route_has_the_operation_name_summary_and_texts_of_its_description():
    paths = _openapi(_routes(public_read=False))["paths"]
    assert list(paths) == [
        "/api/things/items",
        "/api/things/items/{item_id}",
        "/api/things/mine",
        "/internal/contacts/items/{item_id}",
    ]
    create, read, replace, withdraw = (
        paths["/api/things/items"]["post"],
        *paths["/api/things/items/{item_id}"].values(),
    )
    assert create["operationId"] == "make_thing_api_things_items_post" and create["summary"] == "Make a thing"
    assert create["responses"]["201"]["description"] == "Made." and "Location" in create["responses"]["201"]["headers"]
    assert read["description"] == "Reads it." and read["responses"]["200"]["description"] == "The thing."
    assert replace["operationId"] == "change_thing_api_things_items__item_id__put"
    assert withdraw["responses"]["204"]["description"] == "Dropped." and "412" in withdraw["responses"]
    listing = paths["/api/things/mine"]["get"]
    assert listing["operationId"] == "my_things_api_things_mine_get" and listing["summary"] == "My things"
    assert {p["name"] for p in listing["parameters"] if p["in"] == "query"} == {"page", "page_size"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingsPage"
    }
    contact = paths["/internal/contacts/items/{item_id}"]["get"]
    assert contact["operationId"] == "host_contact_internal_contacts_items__item_id__get"
    assert (
        contact["summary"] == "A host's contact (internal)"
        and contact["responses"]["404"]["description"] == "Unknown thing."
    )


def test_the_record_id_is_a_path_parameter_named_and_described_after_the_record():
    read = _openapi(_routes(public_read=False))["paths"]["/api/things/items/{item_id}"]["get"]
    [parameter] = [p for p in read["parameters"] if p["in"] == "path"]
    assert parameter["name"] == "item_id" and parameter["description"] == "Id of the thing (a UUID)."


def test_a_public_read_answers_with_the_owned_or_the_public_view_and_a_private_one_with_the_owned():
    def read_schema(public_read: bool) -> dict[str, Any]:
        paths = _openapi(_routes(public_read=public_read))["paths"]
        return paths["/api/things/items/{item_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    assert read_schema(True)["anyOf"] == [
        {"$ref": "#/components/schemas/ThingOwned"},
        {"$ref": "#/components/schemas/HostEntryPublic"},
    ]
    assert read_schema(False) == {"$ref": "#/components/schemas/ThingOwned"}


def test_a_services_documents_and_their_command_are_named_after_it():
    documents = ServiceDocuments("things", lambda settings: None, ServiceSettings, "Things", "1", "All things.")
    assert documents.openapi == REPO_ROOT / "docs" / "openapi" / "things.json"
    assert documents.asyncapi == REPO_ROOT / "docs" / "asyncapi" / "things.yaml"
    assert documents.regenerate == "uv run --no-sync python -m cx_things.api_documents --write"
