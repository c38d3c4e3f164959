"""A visitor's application page: its answers, then its ranked hosts with names, countries and the reasons
in the e-mails' words; the ranked hosts refresh themselves (a fragment the page's script polls).

Also the partnership manager's overview of its partnership's applications, their matches and host entries.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cx_web.domain.records import OrganisationView, application_page
from cx_web.entrypoints.rendering import fragment, page
from cx_web.entrypoints.session import SignedIn
from cx_web.handlers import (
    APPLICATIONS,
    NotAllowed,
    PlatformApi,
    application_matches,
    owned_record,
    partnership_overview,
)

ApplicationId = Annotated[UUID, Path(description="Id of the application.")]


def application_router(api: PlatformApi, refresh_interval_s: int) -> APIRouter:
    """GET /applications/{id}, its ranked-hosts fragment, /applications/{id}/matches and /partnership."""
    router = APIRouter()

    @router.get("/applications/{application_id}", response_class=HTMLResponse, name="application")
    async def application(request: Request, application_id: ApplicationId, session: SignedIn) -> HTMLResponse:
        stored = await owned_record(api, APPLICATIONS, session.token, str(application_id))
        matches = await application_matches(api, session.token, str(application_id))
        return page(
            request,
            "application.html",
            application_id=str(application_id),
            document=stored.document,
            organisation=OrganisationView.of(stored.document["organisation"]),
            answers=stored.document["answers"],
            matches=matches,
            refresh_url=f"{application_page(str(application_id))}/ranked-hosts",
            refresh_interval_s=refresh_interval_s,
            read_only=session.person.is_manager,
        )

    @router.get("/applications/{application_id}/ranked-hosts", response_class=HTMLResponse)
    async def ranked_hosts(request: Request, application_id: ApplicationId, session: SignedIn) -> HTMLResponse:
        matches = await application_matches(api, session.token, str(application_id))
        return fragment(
            request,
            "_ranked_hosts.html",
            matches=matches,
            application_id=str(application_id),
            read_only=session.person.is_manager,
        )

    @router.get("/applications/{application_id}/matches")
    async def matches(application_id: ApplicationId) -> RedirectResponse:
        # The e-mails' "Your current list, always up to date" link: the ranked hosts are on the application's page.
        return RedirectResponse(f"{application_page(str(application_id))}#ranked-hosts", status_code=303)

    @router.get("/partnership", response_class=HTMLResponse, name="partnership")
    async def partnership(request: Request, session: SignedIn) -> HTMLResponse:
        if not session.person.is_manager:
            raise NotAllowed("This overview is for partnership managers.")
        overview = await partnership_overview(api, session.token)
        applications = [(a, OrganisationView.of(a.document["organisation"])) for a in overview.applications]
        entries = [(e, OrganisationView.of(e["organisation"])) for e in overview.entries]
        return page(request, "partnership.html", applications=applications, entries=entries)

    return router
