"""Where a visitor's answers enter, and where it reads its matches: HTTP routes under /api/applications.

An application is an owned record served by the kit's owner routes, as `APPLICATIONS` describes it; the
latest matches of an application are the service's own route.
"""

# No `from __future__ import annotations`: FastAPI reads the matches route's caller from its annotation, which
# names the ownership dependency of the running service.

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from cx_contracts.api import ApplicationCreate, ApplicationCreated, ApplicationPublic, ApplicationUpdate
from cx_kit.aggregate_http import PRIVATE, READ_PROBLEMS, not_found
from cx_kit.aggregate_routes import ContactLookup, Operation, OwnedAggregateRoutes
from cx_kit.aggregates import OwnedAggregates
from cx_kit.ownership import Caller, Ownership, read_view

from cx_applications.adapters.matches import LatestMatchesRepository
from cx_applications.entrypoints.responses import ApplicationMatches, ApplicationOwned, ApplicationsPage

APPLICATIONS = OwnedAggregateRoutes(
    path="/api/applications",
    list_path="/api/applications",
    id_field="application_id",
    what="application",
    tag="applications",
    create_body=ApplicationCreate,
    created=ApplicationCreated,
    update_body=ApplicationUpdate,
    public=ApplicationPublic,
    owned=ApplicationOwned,
    owned_page=ApplicationsPage,
    public_read=False,
    create=Operation(
        "submit_application",
        "Submit a visitor's application",
        "A signed-in organisation applies, and owns the application: stored at revision 1 with its "
        "VisitorAnswersSubmitted queued. The contact's e-mail is the verified address of the sign-in.",
        "Created.",
    ),
    read=Operation(
        "read_application",
        "Read an application",
        "The application with its contact, for its owner and the managers of its partnership only. ETag: its revision.",
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
    listing=Operation(
        "list_own_applications",
        "The caller's own applications",
        "The applications of the signed-in organisation (a partnership manager: those naming its partnership), "
        "oldest first, in the owner's view.",
        "One page of applications.",
    ),
    contact=ContactLookup(
        "visitor",
        "Who to write to about an application; personal data, so only other services of the platform may ask.",
        "Unknown, withdrawn or erased application.",
    ),
)

ApplicationId = Annotated[UUID, Path(description="Id of the application (a UUID).")]


def matches_router(applications: OwnedAggregates, matches: LatestMatchesRepository, ownership: Ownership) -> APIRouter:
    """GET /api/applications/{application_id}/matches: the latest ranked hosts, for those who read the application
    (its owner and the managers of its partnership)."""
    router = APIRouter(prefix=APPLICATIONS.path, tags=[APPLICATIONS.tag])
    SignedIn = Annotated[Caller, Depends(ownership.caller)]

    @router.get(
        "/{application_id}/matches",
        response_model=ApplicationMatches,
        summary="The latest ranked hosts of an application",
        responses=READ_PROBLEMS,
    )
    async def read_matches(application_id: ApplicationId, caller: SignedIn, response: Response) -> ApplicationMatches:
        """The hosts the matcher's latest run proposed, best first, with why; `pending` until a run reports."""
        record = await applications.get(str(application_id))
        if record is None or read_view(caller, record, public=False) is None:
            raise not_found(APPLICATIONS.what)
        response.headers.update(PRIVATE)
        latest = await matches.latest(record.id)
        if latest is None:
            return ApplicationMatches(application_id=application_id, status="pending")
        return ApplicationMatches.model_validate({**latest, "application_id": application_id, "status": "matched"})

    return router
