"""Where a host's answers enter: the catalogue's HTTP routes under /api/catalogue.

A host's own entry is an owned record served by the kit's owner routes, as `HOST_ENTRIES` describes it; the
public catalogue listing is the catalogue's own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cx_contracts.api import HostEntryCreate, HostEntryCreated, HostEntryPublic, HostEntryUpdate
from cx_kit.aggregate_http import READ_PROBLEMS
from cx_kit.aggregate_routes import ContactLookup, Operation, OwnedAggregateRoutes

from cx_catalogue.adapters.hosts import HostRepository
from cx_catalogue.domain.catalogue_query import CatalogueQuery
from cx_catalogue.entrypoints.responses import HostCatalogue, HostEntriesPage, HostEntryOwned

PREFIX = "/api/catalogue"

HOST_ENTRIES = OwnedAggregateRoutes(
    path=f"{PREFIX}/hosts",
    list_path=f"{PREFIX}/entries",
    id_field="host_id",
    what="catalogue entry",
    tag="catalogue",
    create_body=HostEntryCreate,
    created=HostEntryCreated,
    update_body=HostEntryUpdate,
    public=HostEntryPublic,
    owned=HostEntryOwned,
    owned_page=HostEntriesPage,
    public_read=True,
    create=Operation(
        "publish_entry",
        "Publish a host's catalogue entry",
        "A signed-in organisation publishes its entry, which it then owns: stored at revision 1 with its "
        "HostAnswersSubmitted queued. The contact's e-mail is the verified address of the sign-in.",
        "Created.",
    ),
    read=Operation(
        "read_entry",
        "One catalogue entry",
        "The public entry; for its owner and the managers of its partnership, the owner's view with the contact. "
        "ETag: its revision.",
        "The public entry, or the owner's view (with the contact).",
    ),
    replace=Operation(
        "replace_answers",
        "Replace a host's answers",
        "Replace the answers (and the organisation or contact, if sent) of the revision named in If-Match.",
        "The entry as changed (owner's view).",
    ),
    withdraw=Operation(
        "withdraw_entry",
        "Withdraw a host's entry",
        "Withdraw the entry: it leaves the catalogue, its contact is dropped, and a tombstone is queued.",
        "Withdrawn; the ETag is the withdrawal's revision.",
    ),
    listing=Operation(
        "list_own_entries",
        "The caller's own catalogue entries",
        "The entries of the signed-in organisation (a partnership manager: those naming its partnership), oldest "
        "first, in the owner's view.",
        "One page of entries.",
    ),
    contact=ContactLookup(
        "host",
        "Who to write to about a host; personal data, so only other services of the platform may ask.",
        "Unknown, withdrawn or erased host.",
    ),
)


def catalogue_router(hosts: HostRepository) -> APIRouter:
    """GET /api/catalogue/hosts: the public catalogue."""
    router = APIRouter(prefix=PREFIX, tags=["catalogue"])

    @router.get(
        "/hosts",
        response_model=HostCatalogue,
        summary="The public catalogue",
        responses={code: READ_PROBLEMS[code] for code in (422, 503)},
    )
    async def list_entries(query: Annotated[CatalogueQuery, Query()]) -> HostCatalogue:
        """Active entries matching the filters, one page at a time; never any contact data."""
        page = await hosts.catalogue_page(query)
        return HostCatalogue(
            items=[HOST_ENTRIES.public_view(record) for record in page.entries],
            total=page.total,
            page=query.page,
            page_size=query.page_size,
        )

    return router
