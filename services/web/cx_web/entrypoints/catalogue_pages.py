"""The public pages: the front page, the catalogue with its filters, and a host's page (the e-mails link here).

Anyone may read them; a signed-in owner sees its own entry's edit and withdraw buttons on its page.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from cx_web.domain.catalogue_filters import FILTERS, CatalogueSearch
from cx_web.domain.records import OrganisationView
from cx_web.entrypoints.rendering import page
from cx_web.entrypoints.session import MaybeSignedIn
from cx_web.handlers import PlatformApi, catalogue_page, host_entry_page

HostId = Annotated[UUID, Path(description="Id of the host's catalogue entry.")]


def catalogue_router(api: PlatformApi) -> APIRouter:
    """GET /, /catalogue and /catalogue/hosts/{host_id}."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, name="home")
    async def home(request: Request) -> HTMLResponse:
        return page(request, "home.html")

    @router.get("/catalogue", response_class=HTMLResponse, name="catalogue")
    async def catalogue(request: Request) -> HTMLResponse:
        query = request.query_params
        search = CatalogueSearch.from_query({name: query.getlist(name) for name in query})
        result = await catalogue_page(api, search)
        entries = [(entry, OrganisationView.of(entry["organisation"])) for entry in result.entries]
        return page(
            request,
            "catalogue.html",
            status_code=422 if result.problems else 200,
            filters=FILTERS,
            values=search.filters,
            problems=result.problems,
            entries=entries,
            paging=result.paging,
            search=search,
        )

    @router.get("/catalogue/hosts/{host_id}", response_class=HTMLResponse, name="host_page")
    async def host(request: Request, host_id: HostId, session: MaybeSignedIn) -> HTMLResponse:
        member = session.token if session is not None and not session.person.is_manager else None
        shown = await host_entry_page(api, str(host_id), member)
        entry = shown.entry
        return page(
            request,
            "host.html",
            host_id=str(host_id),
            entry=entry,
            organisation=OrganisationView.of(entry["organisation"]),
            answers=entry["answers"],
            owned=shown.owned,
        )

    return router
