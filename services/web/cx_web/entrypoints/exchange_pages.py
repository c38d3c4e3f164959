"""The exchanges' pages: a visitor's request to a proposed host, the exchange's own page (its state, who must do
what next, the host's answer, the managers' confirmation), the Commitment to Quality, the withdrawal and the
closing report, and the list of the organisation's (a manager's: its partnership's) exchanges with totals.

Every step is a form that posts the API's document from the revision the page was read at; the API decides and
its problems are shown: a 422 beside each field, a 409 (a rule or the state) and a 412 (changed meanwhile) at
the top of the exchange's page.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cx_web.domain.exchanges import (
    ACCEPTANCE,
    AGREEMENT,
    DECLINE,
    EXCHANGES_PAGE,
    REPORT,
    exchange_page,
    request_form,
    request_values,
)
from cx_web.domain.questionnaire_form import FormProblems, FormValues, Questionnaire
from cx_web.domain.records import OrganisationView, application_page
from cx_web.entrypoints.rendering import create_key, first, page, posted_form, see_other
from cx_web.entrypoints.session import Session, SignedIn, flash
from cx_web.handlers import (
    Conflict,
    PlatformApi,
    Refused,
    Saved,
    Stale,
    exchange,
    exchange_request_page,
    exchange_step,
    exchanges_overview,
    request_exchange,
)

ExchangeId = Annotated[UUID, Path(description="Id of the exchange.")]
# The steps posted from an exchange's page or its forms: the form each takes, and what it says once taken.
STEPS: dict[str, tuple[Questionnaire | None, str]] = {
    "accept": (ACCEPTANCE, "You accepted the request: you now see each other's contact."),
    "decline": (DECLINE, "You declined the request."),
    "withdraw": (None, "The exchange is withdrawn."),
    "confirm": (None, "Your partnership confirmed the Commitment to Quality."),
    "agreement": (AGREEMENT, "The Commitment to Quality is revised; both partnerships confirm it afresh."),
    "report": (REPORT, "Your closing report is filed: the exchange is completed."),
}
# The steps with a page of their own (the others are forms on the exchange's page).
OWN_PAGES = {
    "withdraw": "Withdraw the exchange?",
    "agreement": "Revise the Commitment to Quality",
    "report": "File the closing report",
}


def _revision(text: str) -> int:
    # The hidden field the form was opened with; a tampered one is sent as 1 and the API answers 412.
    return int(text) if text.isdigit() and 0 < len(text) < 19 and int(text) > 0 else 1


def exchange_router(api: PlatformApi) -> APIRouter:
    """The request, the exchange's page and its steps, and the list of exchanges."""
    router = APIRouter(prefix=EXCHANGES_PAGE)

    def exchange_view(
        request: Request,
        session: Session,
        document: dict[str, Any],
        *,
        status_code: int = 200,
        conflict: str | None = None,
        stale: bool = False,
        forms: dict[str, tuple[FormValues, FormProblems]] | None = None,
    ) -> HTMLResponse:
        return page(
            request,
            "exchange.html",
            status_code=status_code,
            exchange=document,
            visitor=OrganisationView.of(document["visitor"]["organisation"]),
            host=OrganisationView.of(document["host"]["organisation"]),
            conflict=conflict,
            stale=stale,
            forms=forms or {},
            acceptance=ACCEPTANCE,
            decline=DECLINE,
            is_manager=session.person.is_manager,
        )

    def step_page(
        request: Request,
        step: str,
        document: dict[str, Any],
        values: FormValues,
        problems: FormProblems | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        return page(
            request,
            "exchange_step.html",
            status_code=status_code,
            step=step,
            heading=OWN_PAGES[step],
            form=STEPS[step][0],
            exchange=document,
            visitor=OrganisationView.of(document["visitor"]["organisation"]),
            host=OrganisationView.of(document["host"]["organisation"]),
            values=values,
            problems=problems or FormProblems(),
        )

    @router.get("", response_class=HTMLResponse, name="exchanges")
    async def listed(request: Request, session: SignedIn) -> HTMLResponse:
        overview = await exchanges_overview(api, session.token)
        shown = [
            (
                item,
                OrganisationView.of(item["visitor"]["organisation"]),
                OrganisationView.of(item["host"]["organisation"]),
            )
            for item in overview.items
        ]
        return page(request, "exchanges.html", items=shown, totals=overview.totals)

    @router.get("/new", response_class=HTMLResponse)
    async def new(
        request: Request, session: SignedIn, application: Annotated[UUID, Query()], host: Annotated[UUID, Query()]
    ) -> HTMLResponse:
        asked = await exchange_request_page(api, session.token, str(application), str(host))
        values = request_values(asked.application, asked.formats)
        return _request_page(request, asked, str(application), str(host), values, key=create_key())

    @router.post("/new", response_class=HTMLResponse)
    async def send(request: Request, session: SignedIn) -> Response:
        form_data = await posted_form(request)
        application, host = first(form_data, "application_id"), first(form_data, "host_id")
        asked = await exchange_request_page(api, session.token, str(UUID(application)), str(UUID(host)))
        form = request_form(asked.formats)
        values = form.values(form_data)
        key = create_key(form_data)
        outcome = await request_exchange(
            api, form, session.token, values, {"application_id": application, "host_id": host}, key
        )
        if isinstance(outcome, Saved):
            flash(request, "Your request is sent. The host accepts or declines it; you see its answer here.")
            return see_other(exchange_page(outcome.record_id))
        problems = outcome.problems if isinstance(outcome, Refused) else FormProblems()
        conflict = outcome.detail if isinstance(outcome, Conflict) else None
        status = 422 if isinstance(outcome, Refused) else 409
        return _request_page(request, asked, application, host, values, problems, conflict, status, key=key)

    @router.get("/{exchange_id}", response_class=HTMLResponse, name="exchange")
    async def shown(request: Request, exchange_id: ExchangeId, session: SignedIn) -> HTMLResponse:
        stored = await exchange(api, session.token, str(exchange_id))
        return exchange_view(request, session, stored.document)

    @router.get("/{exchange_id}/{step}", response_class=HTMLResponse)
    async def own_page(request: Request, exchange_id: ExchangeId, step: str, session: SignedIn) -> HTMLResponse:
        if step not in OWN_PAGES:
            return page(
                request, "error.html", status_code=404, title="Page not found", message="There is no such page."
            )
        stored = await exchange(api, session.token, str(exchange_id))
        form = STEPS[step][0]
        values = form.from_document(stored.document) if form is not None else {}
        return step_page(request, step, stored.document, values)

    @router.post("/{exchange_id}/{step}", response_class=HTMLResponse)
    async def take(request: Request, exchange_id: ExchangeId, step: str, session: SignedIn) -> Response:
        if step not in STEPS:
            return page(
                request, "error.html", status_code=404, title="Page not found", message="There is no such page."
            )
        form_data = await posted_form(request)
        form, done = STEPS[step]
        values = form.values(form_data) if form is not None else {}
        revision = _revision(first(form_data, "revision"))
        outcome = await exchange_step(api, session.token, str(exchange_id), step, revision, form, values)
        if isinstance(outcome, Saved):
            flash(request, done)
            return see_other(exchange_page(str(exchange_id)))
        current = (
            outcome.current if isinstance(outcome, Stale) else await exchange(api, session.token, str(exchange_id))
        )
        if isinstance(outcome, Refused) and step in OWN_PAGES:
            return step_page(request, step, current.document, values, outcome.problems, status_code=422)
        if isinstance(outcome, Refused):
            forms = {step: (values, outcome.problems)}
            return exchange_view(request, session, current.document, status_code=422, forms=forms)
        conflict = outcome.detail if isinstance(outcome, Conflict) else None
        return exchange_view(
            request, session, current.document, status_code=409, conflict=conflict, stale=isinstance(outcome, Stale)
        )

    return router


def _request_page(
    request: Request,
    asked: Any,
    application_id: str,
    host_id: str,
    values: FormValues,
    problems: FormProblems | None = None,
    conflict: str | None = None,
    status_code: int = 200,
    *,
    key: str,
) -> HTMLResponse:
    return page(
        request,
        "exchange_request.html",
        idempotency_key=key,
        status_code=status_code,
        form=request_form(asked.formats),
        values=values,
        problems=problems or FormProblems(),
        conflict=conflict,
        application_id=application_id,
        host_id=host_id,
        host=OrganisationView.of(asked.host["organisation"]),
        host_answers=asked.host["answers"],
        application_page=application_page(application_id),
    )
