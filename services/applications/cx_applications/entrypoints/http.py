"""Where a visitor's answers enter, and where it reads its matches: HTTP routes under /api/applications.

An application is an owned record served by the kit's owner routes, as `APPLICATIONS` describes it; the
latest matches of an application are the service's own route.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from cx_contracts.api import ApplicationCreate, ApplicationCreated, ApplicationPublic, ApplicationUpdate
from cx_kit.aggregate_http import PRIVATE, READ_PROBLEMS, not_found
from cx_kit.aggregate_routes import ContactLookup, Operation, OwnedAggregateRoutes, Owner
from cx_kit.aggregates import OwnedAggregates

from cx_applications.adapters.matches import LatestMatchesRepository
from cx_applications.entrypoints.responses import ApplicationMatches, ApplicationOwned

APPLICATIONS = OwnedAggregateRoutes(
    path="/api/applications",
    id_field="application_id",
    what="application",
    tag="applications",
    create_body=ApplicationCreate,
    created=ApplicationCreated,
    update_body=ApplicationUpdate,
    public=ApplicationPublic,
    owned=ApplicationOwned,
    public_read=False,
    create=Operation(
        "submit_application",
        "Submit a visitor's application",
        "Store the application at revision 1 and queue its VisitorAnswersSubmitted; the owner token is shown once.",
        "Created; the owner token is in the body, once.",
    ),
    read=Operation(
        "read_application",
        "Read one's own application",
        "The application with its contact, for its owner only. ETag: its revision.",
        "The application, with its contact.",
    ),
    replace=Operation(
        "replace_answers",
        "Replace a visitor's answers",
        "Replace the answers (and the organisation or contact, if sent) of the revision named in If-Match.",
        "The application as changed.",
    ),
    withdraw=Operation(
        "withdraw_application",
        "Withdraw an application",
        "Withdraw the application: matching stops, its contact is dropped, and a tombstone is queued.",
        "Withdrawn; the ETag is the withdrawal's revision.",
    ),
    contact=ContactLookup(
        "visitor",
        "Who to write to about an application; personal data, so only other services of the platform may ask.",
        "Unknown, withdrawn or erased application.",
    ),
)

ApplicationId = Annotated[UUID, Path(description="Id of the application (a UUID).")]


def matches_router(applications: OwnedAggregates, matches: LatestMatchesRepository) -> APIRouter:
    """GET /api/applications/{application_id}/matches: the latest ranked hosts, for the application's owner only."""
    router = APIRouter(prefix=APPLICATIONS.path, tags=[APPLICATIONS.tag])

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
            raise not_found(APPLICATIONS.what)
        response.headers.update(PRIVATE)
        latest = await matches.latest(record.id)
        if latest is None:
            return ApplicationMatches(application_id=application_id, status="pending")
        return ApplicationMatches.model_validate({**latest, "application_id": application_id, "status": "matched"})

    return router
