"""Where exchanges are asked for and move on: the HTTP routes under /api/exchanges.

Each route decodes its input, names the caller (cx_kit.ownership) and the revision it read (If-Match), calls a
use case, and answers with the exchange as the caller may read it; a refusal is a problem document: 422 naming
each field, 409 for a step the state or the scheme's rules do not allow, 403 for a step that is another's,
404 for an exchange the caller does not take part in (read exactly like an unknown one), 412 for a stale read.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' dependencies from their annotations, and
# those name the ownership dependency of the running service.

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.exceptions import RequestValidationError

from cx_contracts.api import PageQuery
from cx_contracts.exchange import (
    ExchangeAcceptance,
    ExchangeAgreement,
    ExchangeCreated,
    ExchangeDecline,
    ExchangeReport,
    ExchangeRequest,
    ExchangesPage,
    ExchangeTotals,
    ExchangeView,
)
from cx_kit.aggregate_http import (
    CREATE_PROBLEMS,
    LIST_PROBLEMS,
    PRIVATE,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    IdempotencyKey,
    etag,
    expected_revision,
    json_document,
    json_fingerprint,
    problem_error,
    request_traceparent,
    with_etag,
    written,
)
from cx_kit.aggregates import StaleRevision
from cx_kit.internal_records import RecordsUnavailable
from cx_kit.ownership import Caller, Ownership

from cx_exchanges.domain.exchange import Exchange, Refusal
from cx_exchanges.handlers import Exchanges, StaleExchange, acting_for

PREFIX = "/api/exchanges"
TAG = "exchanges"
_PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The exchange's state or the scheme's rules do not allow this step now.", **_PROBLEM}
}
_UNAVAILABLE = "The catalogue or the applications service cannot be reached right now; try again shortly."
# The one write a partnership manager makes: tests/access reads this mark to expect a manager's 200 there.
MANAGERS_WRITE = {"x-cx-managers-write": True}

ExchangeId = Annotated[UUID, Path(description="Id of the exchange (a UUID).")]
Revision = Annotated[int, Depends(expected_revision)]
Traceparent = Annotated[str, Depends(request_traceparent)]


def refusal_problem(refusal: Refusal) -> Exception:
    """The problem document a refusal is answered with."""
    if refusal.kind == "invalid":
        return RequestValidationError(
            [
                {"loc": ("body", *field.split(".")), "type": "exchange_rule", "msg": message}
                for field, message in refusal.fields
            ]
        )
    status = {"conflict": 409, "forbidden": 403, "missing": 404}[refusal.kind]
    return problem_error(status, refusal.detail)


async def answered(step: Callable[[], Awaitable[Any]]) -> Any:
    """Run a use case; its refusals, a stale read and an unreachable record service become problems."""
    try:
        return await step()
    except Refusal as refusal:
        raise refusal_problem(refusal) from None
    except StaleExchange as stale:
        written(StaleRevision(stale.expected, stale.current), what="exchange")  # raises the 412
        raise
    except RecordsUnavailable:
        raise problem_error(503, _UNAVAILABLE, headers={"Retry-After": "5"}) from None


def exchanges_router(exchanges: Exchanges, ownership: Ownership) -> APIRouter:
    """The routes of contact requests and exchanges."""
    router = APIRouter(prefix=PREFIX, tags=[TAG])
    SignedIn = Annotated[Caller, Depends(ownership.caller)]

    async def shown(caller: Caller, exchange: Exchange) -> Response:
        view = await exchanges.view(exchange, acting_for(caller, exchange))
        return json_document(view, headers={"ETag": etag(exchange.revision), **PRIVATE})

    @router.post(
        "",
        status_code=201,
        response_model=ExchangeCreated,
        summary="Ask a proposed host for an exchange",
        responses={201: with_etag("Requested.", location=True), **CREATE_PROBLEMS, **_CONFLICT},
    )
    async def request(
        body: ExchangeRequest, caller: SignedIn, traceparent: Traceparent, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """A visitor organisation asks a host that the matcher proposed to its application: dates inside both sides'
        windows, a format both accept, its participants, its goals and a message. The host sees the request; the two
        sides see each other's contact only once the host accepts. With an Idempotency-Key, a retry gives back the
        exchange the first request made."""
        keyed = None if idempotency_key is None else (idempotency_key, json_fingerprint(body.model_dump(mode="json")))
        exchange = await answered(lambda: exchanges.request(caller, body, traceparent, keyed))
        created = ExchangeCreated(exchange_id=UUID(exchange.id), revision=exchange.revision)
        headers = {"Location": f"{PREFIX}/{exchange.id}", "ETag": etag(exchange.revision), **PRIVATE}
        return json_document(created, status_code=201, headers=headers)

    @router.get(
        "",
        response_model=ExchangesPage,
        summary="The caller's exchanges",
        responses=LIST_PROBLEMS,
    )
    async def listed(query: Annotated[PageQuery, Query()], caller: SignedIn) -> Response:
        """The exchanges the caller's organisation takes part in, as visitor or host (a partnership manager: those
        of its partnership's organisations), newest first."""
        items, total = await exchanges.page(caller, query)
        page = ExchangesPage(items=items, total=total, page=query.page, page_size=query.page_size)
        return json_document(page, headers=PRIVATE)

    @router.get(
        "/totals",
        response_model=ExchangeTotals,
        summary="How the caller's exchanges stand",
        responses=LIST_PROBLEMS,
    )
    async def counted(caller: SignedIn) -> Response:
        """Counts per state and the granted amounts of the caller's exchanges (a manager: its partnership's)."""
        return json_document(await exchanges.totals(caller), headers=PRIVATE)

    @router.get(
        "/{exchange_id}",
        response_model=ExchangeView,
        summary="One exchange",
        responses={200: with_etag("The exchange."), **READ_PROBLEMS},
    )
    async def read(exchange_id: ExchangeId, caller: SignedIn) -> Response:
        """The exchange for its two sides and their partnerships' managers: its state and who must do what next;
        the contacts once accepted. ETag: its revision."""
        exchange, _ = await answered(lambda: exchanges.readable(caller, str(exchange_id)))
        return await answered(lambda: shown(caller, exchange))

    def step(path: str, summary: str, description: str, *, managers: bool = False) -> Callable[..., Any]:
        return router.post(
            path,
            response_model=ExchangeView,
            summary=summary,
            description=description,
            responses={200: with_etag("The exchange after the step."), **WRITE_PROBLEMS, **_CONFLICT},
            openapi_extra=MANAGERS_WRITE if managers else None,
        )

    @step(
        "/{exchange_id}/accept",
        "Accept a request (the host)",
        "The host organisation accepts, with its agenda: the exchange takes up its capacity on its days (refused "
        "when full) and, if physical, the visitor organisation's one exchange (refused when it has one).",
    )
    async def accepted(
        exchange_id: ExchangeId,
        body: ExchangeAcceptance,
        caller: SignedIn,
        revision: Revision,
        traceparent: Traceparent,
    ) -> Response:
        exchange = await answered(
            lambda: exchanges.accept(caller, str(exchange_id), revision, body.agenda, traceparent)
        )
        return await answered(lambda: shown(caller, exchange))

    @step("/{exchange_id}/decline", "Decline a request (the host)", "The host organisation declines the request.")
    async def declined(
        exchange_id: ExchangeId, body: ExchangeDecline, caller: SignedIn, revision: Revision, traceparent: Traceparent
    ) -> Response:
        exchange = await answered(
            lambda: exchanges.decline(caller, str(exchange_id), revision, body.reason, traceparent)
        )
        return await answered(lambda: shown(caller, exchange))

    @step(
        "/{exchange_id}/withdraw",
        "Withdraw (either side)",
        "Either organisation withdraws before the exchange starts; what it booked is free again.",
    )
    async def withdrawn(
        exchange_id: ExchangeId, caller: SignedIn, revision: Revision, traceparent: Traceparent
    ) -> Response:
        exchange = await answered(lambda: exchanges.withdraw(caller, str(exchange_id), revision, traceparent))
        return await answered(lambda: shown(caller, exchange))

    @router.put(
        "/{exchange_id}/agreement",
        response_model=ExchangeView,
        summary="Revise the Commitment to Quality (either side)",
        responses={200: with_etag("The exchange with the revised agreement."), **WRITE_PROBLEMS, **_CONFLICT},
    )
    async def revised(
        exchange_id: ExchangeId, body: ExchangeAgreement, caller: SignedIn, revision: Revision, traceparent: Traceparent
    ) -> Response:
        """Either organisation revises goals and agenda until both partnerships confirmed; a confirmation already
        given is cleared, since it confirmed other words."""
        exchange = await answered(
            lambda: exchanges.revise_agreement(caller, str(exchange_id), revision, body.goals, body.agenda, traceparent)
        )
        return await answered(lambda: shown(caller, exchange))

    @step(
        "/{exchange_id}/confirm",
        "Confirm the Commitment to Quality (a partnership manager)",
        "A manager of either side's partnership confirms goals, agenda and dates for the sides it oversees; once "
        "both have, the exchange is agreed and its grant computed.",
        managers=True,
    )
    async def confirmed(
        exchange_id: ExchangeId, caller: SignedIn, revision: Revision, traceparent: Traceparent
    ) -> Response:
        exchange = await answered(lambda: exchanges.confirm(caller, str(exchange_id), revision, traceparent))
        return await answered(lambda: shown(caller, exchange))

    @step(
        "/{exchange_id}/report",
        "File the closing report (the visitor)",
        "After the end date the visitor organisation files what it learnt and what follows: the exchange is completed.",
    )
    async def reported(
        exchange_id: ExchangeId, body: ExchangeReport, caller: SignedIn, revision: Revision, traceparent: Traceparent
    ) -> Response:
        exchange = await answered(
            lambda: exchanges.report(caller, str(exchange_id), revision, body.learnt, body.follow_up, traceparent)
        )
        return await answered(lambda: shown(caller, exchange))

    return router
