"""A host's entry and a visitor's application: the questionnaire to submit, edit and withdraw, and the list
of the organisation's own records (a partnership manager's: its partnership's, read only).

Both kinds of record are written once here, configured by a `RecordPages`; the application's own page
with its ranked hosts is in application_pages.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from cx_web.domain.questionnaire_form import FormProblems, FormValues, Questionnaire
from cx_web.domain.records import OrganisationView
from cx_web.entrypoints.rendering import create_key, first, page, posted_form, see_other
from cx_web.entrypoints.session import Session, SignedIn, flash
from cx_web.handlers import (
    NotAllowed,
    OwnedRecords,
    PlatformApi,
    Refused,
    Saved,
    Stale,
    owned_record,
    record_list,
    save,
    submit,
    withdraw,
)

RecordId = Annotated[UUID, Path(description="Id of the record.")]


@dataclass(frozen=True)
class RecordPages:
    """How one kind of record reads on the pages."""

    records: OwnedRecords
    questionnaire: Questionnaire
    prefix: str  # "/entries": the list; <prefix>/new, <prefix>/{id}/edit, <prefix>/{id}/withdraw
    noun: str  # "host entry"
    plural: str  # "Your host entries"
    create_heading: str
    created_message: str
    record_page: Callable[[str], str]  # where a record is shown after a change


def _not_for_managers(session: Session) -> None:
    if session.person.is_manager:
        raise NotAllowed("Partnership managers read their partnership's records; they do not change them.")


def record_router(api: PlatformApi, pages: RecordPages) -> APIRouter:
    """The list, create, edit and withdraw pages of one kind of record."""
    router = APIRouter(prefix=pages.prefix)
    records, questionnaire = pages.records, pages.questionnaire

    def form_page(
        request: Request,
        session: Session,
        *,
        action: str,
        heading: str,
        values: FormValues,
        problems: FormProblems | None = None,
        revision: int | None = None,
        stale: Stale | None = None,
        status_code: int = 200,
        idempotency_key: str | None = None,
    ) -> HTMLResponse:
        return page(
            request,
            "questionnaire.html",
            status_code=status_code,
            pages=pages,
            questionnaire=questionnaire,
            heading=heading,
            action=action,
            values=values,
            problems=problems or FormProblems(),
            revision=revision,
            stale=stale,
            email=session.person.email,
            idempotency_key=idempotency_key,
        )

    @router.get("", response_class=HTMLResponse)
    async def listed(request: Request, session: SignedIn) -> HTMLResponse:
        items = await record_list(api, records, session.token)
        shown = [(item, OrganisationView.of(item.get("organisation", {}))) for item in items]
        return page(request, "record_list.html", pages=pages, items=shown)

    @router.get("/new", response_class=HTMLResponse)
    async def new(request: Request, session: SignedIn) -> HTMLResponse:
        _not_for_managers(session)
        prefilled = {"organisation.name": [session.person.organisation_name]}
        return form_page(
            request,
            session,
            action=f"{pages.prefix}/new",
            heading=pages.create_heading,
            values=prefilled,
            idempotency_key=create_key(),
        )

    @router.post("/new", response_class=HTMLResponse)
    async def create(request: Request, session: SignedIn) -> Response:
        _not_for_managers(session)
        form = await posted_form(request)
        values = questionnaire.values(form)
        key = create_key(form)
        outcome = await submit(api, records, questionnaire, session.token, values, session.person.email, key)
        if isinstance(outcome, Refused):
            return form_page(
                request,
                session,
                action=f"{pages.prefix}/new",
                heading=pages.create_heading,
                values=values,
                problems=outcome.problems,
                status_code=422,
                idempotency_key=key,
            )
        flash(request, pages.created_message)
        return see_other(pages.record_page(outcome.record_id))

    @router.get("/{record_id}/edit", response_class=HTMLResponse)
    async def edit(request: Request, record_id: RecordId, session: SignedIn) -> HTMLResponse:
        _not_for_managers(session)
        stored = await owned_record(api, records, session.token, str(record_id))
        return form_page(
            request,
            session,
            action=f"{pages.prefix}/{record_id}/edit",
            heading=f"Edit your {pages.noun}",
            values=questionnaire.from_document(stored.document),
            revision=stored.revision,
        )

    @router.post("/{record_id}/edit", response_class=HTMLResponse)
    async def replace(request: Request, record_id: RecordId, session: SignedIn) -> Response:
        _not_for_managers(session)
        form = await posted_form(request)
        values = questionnaire.values(form)
        revision = _revision(first(form, "revision"))
        outcome = await save(
            api, records, questionnaire, session.token, str(record_id), revision, values, session.person.email
        )
        if isinstance(outcome, Saved):
            flash(request, f"Your {pages.noun} is saved (revision {outcome.revision}).")
            return see_other(pages.record_page(outcome.record_id))
        common: dict[str, Any] = {"action": f"{pages.prefix}/{record_id}/edit", "heading": f"Edit your {pages.noun}"}
        if isinstance(outcome, Refused):
            return form_page(
                request, session, **common, values=values, problems=outcome.problems, revision=revision, status_code=422
            )
        # Stale: keep the person's edits, show the current version beside each field that differs, and
        # take the current revision, so saving again replaces it knowingly.
        return form_page(
            request, session, **common, values=values, revision=outcome.current.revision, stale=outcome, status_code=409
        )

    @router.get("/{record_id}/withdraw", response_class=HTMLResponse)
    async def confirm_withdrawal(request: Request, record_id: RecordId, session: SignedIn) -> HTMLResponse:
        _not_for_managers(session)
        stored = await owned_record(api, records, session.token, str(record_id))
        return _withdrawal_page(request, pages, str(record_id), stored.document, stored.revision)

    @router.post("/{record_id}/withdraw", response_class=HTMLResponse)
    async def withdrawn(request: Request, record_id: RecordId, session: SignedIn) -> Response:
        _not_for_managers(session)
        form = await posted_form(request)
        outcome = await withdraw(api, records, session.token, str(record_id), _revision(first(form, "revision")))
        if isinstance(outcome, Stale):
            current = outcome.current
            return _withdrawal_page(request, pages, str(record_id), current.document, current.revision, stale=True)
        flash(request, f"Your {pages.noun} is withdrawn.")
        return see_other(pages.prefix)

    return router


def _withdrawal_page(
    request: Request,
    pages: RecordPages,
    record_id: str,
    document: dict[str, Any],
    revision: int,
    *,
    stale: bool = False,
) -> HTMLResponse:
    return page(
        request,
        "withdraw.html",
        status_code=409 if stale else 200,
        pages=pages,
        record_id=record_id,
        organisation=OrganisationView.of(document.get("organisation", {})),
        revision=revision,
        stale=stale,
    )


def _revision(text: str) -> int:
    # The hidden field the edit form was opened with; a tampered one is sent as 1 and the API answers 412.
    return int(text) if text.isdigit() and 0 < len(text) < 19 and int(text) > 0 else 1
