"""Where a host's answers enter: the catalogue's public HTTP routes under /api/catalogue."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from cx_contracts.api import HostEntryCreate, HostEntryCreated, HostEntryPublic, HostEntryUpdate

from cx_kit.aggregate_http import (
    CREATE_PROBLEMS,
    READ_PROBLEMS,
    PRIVATE,
    WRITE_PROBLEMS,
    etag,
    with_etag,
    expected_revision,
    json_document,
    not_found,
    request_traceparent,
    written,
)
from cx_kit.aggregates import AggregateRecord, same_owner
from cx_kit.ownership import (
    CallingOrganisation,
    NewRecordOwner,
    calling_organisation,
    creating_organisation,
    optional_calling_organisation,
)

from cx_catalogue.adapters.hosts import HostRepository
from cx_catalogue.domain.catalogue_query import CatalogueQuery
from cx_catalogue.domain.host_entry import HOST, public_entry
from cx_catalogue.entrypoints.responses import HostCatalogue, HostEntryOwned

PREFIX = "/api/catalogue"

HostId = Annotated[UUID, Path(description="Id of the catalogue entry (a UUID).")]
Owner = Annotated[CallingOrganisation, Depends(calling_organisation)]
Revision = Annotated[int, Depends(expected_revision)]
Traceparent = Annotated[str, Depends(request_traceparent)]

def _public(record: AggregateRecord) -> HostEntryPublic:
    return public_entry(record.id, record.revision, record.organisation, record.answers, record.updated_at)


def _owned(record: AggregateRecord) -> HostEntryOwned:
    return HostEntryOwned(**_public(record).model_dump(), contact=record.contact, created_at=record.created_at)


def catalogue_router(hosts: HostRepository) -> APIRouter:
    """The routes of the public catalogue and of each host's own entry."""
    router = APIRouter(prefix=PREFIX, tags=["catalogue"])

    @router.post(
        "/hosts",
        status_code=201,
        response_model=HostEntryCreated,
        summary="Publish a host's catalogue entry",
        responses={201: with_etag("Created; the owner token is in the body, once.", location=True), **CREATE_PROBLEMS},
    )
    async def publish_entry(
        entry: HostEntryCreate,
        owner: Annotated[NewRecordOwner, Depends(creating_organisation)],
        traceparent: Traceparent,
    ) -> Response:
        """Store the entry at revision 1 and queue its HostAnswersSubmitted; the owner token is shown once."""
        record = await hosts.create(
            owner=owner.organisation.id,
            organisation=entry.organisation.model_dump(mode="json"),
            contact=entry.contact.model_dump(mode="json"),
            answers=entry.answers.model_dump(mode="json"),
            traceparent=traceparent,
        )
        created = HostEntryCreated(host_id=UUID(record.id), revision=record.revision, owner_token=owner.owner_token)
        return json_document(
            created,
            status_code=201,
            headers={"Location": f"{PREFIX}/hosts/{record.id}", "ETag": etag(record.revision), **PRIVATE},
        )

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
            items=[_public(record) for record in page.entries],
            total=page.total,
            page=query.page,
            page_size=query.page_size,
        )

    @router.get(
        "/hosts/{host_id}",
        response_model=HostEntryOwned | HostEntryPublic,
        summary="One catalogue entry",
        responses={200: with_etag("The public entry, or the owner's view (with the contact)."), **READ_PROBLEMS},
    )
    async def read_entry(
        host_id: HostId,
        caller: Annotated[CallingOrganisation | None, Depends(optional_calling_organisation)],
    ) -> Response:
        """The public entry; with the owner's token, the owner's view with the contact. ETag: its revision."""
        record = await hosts.get(str(host_id))
        if record is None:
            raise not_found(HOST)
        if caller is not None and same_owner(record.owner, caller.id):
            return json_document(_owned(record), headers={"ETag": etag(record.revision), **PRIVATE})
        return json_document(_public(record), headers={"ETag": etag(record.revision), "Vary": "Authorization"})

    @router.put(
        "/hosts/{host_id}",
        response_model=HostEntryOwned,
        summary="Replace a host's answers",
        responses={200: with_etag("The entry as changed (owner's view)."), **WRITE_PROBLEMS},
    )
    async def replace_answers(
        host_id: HostId, update: HostEntryUpdate, owner: Owner, revision: Revision, traceparent: Traceparent
    ) -> Response:
        """Replace the answers (and the organisation or contact, if sent) of the revision named in If-Match."""
        outcome = await hosts.replace(
            str(host_id),
            owner.id,
            revision,
            answers=update.answers.model_dump(mode="json"),
            organisation=update.organisation.model_dump(mode="json") if update.organisation else None,
            contact=update.contact.model_dump(mode="json") if update.contact else None,
            traceparent=traceparent,
        )
        record = written(outcome, what=HOST)
        return json_document(_owned(record), headers={"ETag": etag(record.revision), **PRIVATE})

    @router.delete(
        "/hosts/{host_id}",
        status_code=204,
        summary="Withdraw a host's entry",
        responses={204: with_etag("Withdrawn; the ETag is the withdrawal's revision."), **WRITE_PROBLEMS},
    )
    async def withdraw_entry(host_id: HostId, owner: Owner, revision: Revision, traceparent: Traceparent) -> Response:
        """Withdraw the entry: it leaves the catalogue, its contact is dropped, and a tombstone is queued."""
        record = written(await hosts.withdraw(str(host_id), owner.id, revision, traceparent=traceparent), what=HOST)
        return Response(status_code=204, headers={"ETag": etag(record.revision)})

    return router
