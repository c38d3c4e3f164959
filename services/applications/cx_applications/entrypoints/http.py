"""Where a visitor's answers enter, and where it reads its matches: HTTP routes under /api/applications."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from cx_contracts.api import ApplicationCreate, ApplicationCreated, ApplicationUpdate

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
from cx_kit.aggregates import AggregateRecord
from cx_kit.ownership import CallingOrganisation, NewRecordOwner, calling_organisation, creating_organisation

from cx_applications.adapters.applications import ApplicationRepository
from cx_applications.adapters.matches import LatestMatchesRepository
from cx_applications.domain.application import APPLICATION, public_application
from cx_applications.entrypoints.responses import ApplicationMatches, ApplicationOwned

PREFIX = "/api/applications"

ApplicationId = Annotated[UUID, Path(description="Id of the application (a UUID).")]
Owner = Annotated[CallingOrganisation, Depends(calling_organisation)]
Revision = Annotated[int, Depends(expected_revision)]
Traceparent = Annotated[str, Depends(request_traceparent)]


def _owned(record: AggregateRecord) -> ApplicationOwned:
    public = public_application(record.id, record.revision, record.organisation, record.answers, record.updated_at)
    return ApplicationOwned(**public.model_dump(), contact=record.contact, created_at=record.created_at)


def applications_router(applications: ApplicationRepository, matches: LatestMatchesRepository) -> APIRouter:
    """The routes of a visitor's own application and its matches; every one but the create is owner-only."""
    router = APIRouter(prefix=PREFIX, tags=["applications"])

    @router.post(
        "",
        status_code=201,
        response_model=ApplicationCreated,
        summary="Submit a visitor's application",
        responses={201: with_etag("Created; the owner token is in the body, once.", location=True), **CREATE_PROBLEMS},
    )
    async def submit_application(
        application: ApplicationCreate,
        owner: Annotated[NewRecordOwner, Depends(creating_organisation)],
        traceparent: Traceparent,
    ) -> Response:
        """Store the application at revision 1 and queue its VisitorAnswersSubmitted; the owner token is shown once."""
        record = await applications.create(
            owner=owner.organisation.id,
            organisation=application.organisation.model_dump(mode="json"),
            contact=application.contact.model_dump(mode="json"),
            answers=application.answers.model_dump(mode="json"),
            traceparent=traceparent,
        )
        created = ApplicationCreated(
            application_id=UUID(record.id), revision=record.revision, owner_token=owner.owner_token
        )
        return json_document(
            created,
            status_code=201,
            headers={"Location": f"{PREFIX}/{record.id}", "ETag": etag(record.revision), **PRIVATE},
        )

    @router.get(
        "/{application_id}",
        response_model=ApplicationOwned,
        summary="Read one's own application",
        responses={200: with_etag("The application, with its contact."), **READ_PROBLEMS},
    )
    async def read_application(application_id: ApplicationId, owner: Owner) -> Response:
        """The application with its contact, for its owner only. ETag: its revision."""
        record = await applications.get_owned(str(application_id), owner.id)
        if record is None:
            raise not_found(APPLICATION)
        return json_document(_owned(record), headers={"ETag": etag(record.revision), **PRIVATE})

    @router.put(
        "/{application_id}",
        response_model=ApplicationOwned,
        summary="Replace a visitor's answers",
        responses={200: with_etag("The application as changed."), **WRITE_PROBLEMS},
    )
    async def replace_answers(
        application_id: ApplicationId,
        update: ApplicationUpdate,
        owner: Owner,
        revision: Revision,
        traceparent: Traceparent,
    ) -> Response:
        """Replace the answers (and the organisation or contact, if sent) of the revision named in If-Match."""
        outcome = await applications.replace(
            str(application_id),
            owner.id,
            revision,
            answers=update.answers.model_dump(mode="json"),
            organisation=update.organisation.model_dump(mode="json") if update.organisation else None,
            contact=update.contact.model_dump(mode="json") if update.contact else None,
            traceparent=traceparent,
        )
        record = written(outcome, what=APPLICATION)
        return json_document(_owned(record), headers={"ETag": etag(record.revision), **PRIVATE})

    @router.delete(
        "/{application_id}",
        status_code=204,
        summary="Withdraw an application",
        responses={204: with_etag("Withdrawn; the ETag is the withdrawal's revision."), **WRITE_PROBLEMS},
    )
    async def withdraw_application(
        application_id: ApplicationId, owner: Owner, revision: Revision, traceparent: Traceparent
    ) -> Response:
        """Withdraw the application: matching stops, its contact is dropped, and a tombstone is queued."""
        outcome = await applications.withdraw(str(application_id), owner.id, revision, traceparent=traceparent)
        record = written(outcome, what=APPLICATION)
        return Response(status_code=204, headers={"ETag": etag(record.revision)})

    @router.get(
        "/{application_id}/matches",
        response_model=ApplicationMatches,
        summary="The latest ranked hosts of an application",
        responses=READ_PROBLEMS,
    )
    async def read_matches(application_id: ApplicationId, owner: Owner, response: Response) -> ApplicationMatches:
        """The hosts the matcher's latest run proposed, best first, with why; `pending` until a run reports."""
        record = await applications.get_owned(str(application_id), owner.id)
        if record is None:
            raise not_found(APPLICATION)
        response.headers.update(PRIVATE)
        latest = await matches.latest(record.id)
        if latest is None:
            return ApplicationMatches(application_id=application_id, status="pending")
        return ApplicationMatches.model_validate(
            {**latest, "application_id": application_id, "status": "matched"}
        )

    return router
