"""The HTTP side of owned aggregates: ETags, If-Match, outcomes as problem details, and a store outage as 503.

A client names the revision it read: GET answers with `ETag: "<revision>"`, and PUT / DELETE must send it
back as `If-Match: "<revision>"`. Without it the answer is 428; with an older one, 412 and nothing changes
(RFC 9110 section 13.1.1, and RFC 6585 for 428).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure

from cx_contracts.traceparent import child_traceparent
from cx_kit.aggregates import AggregateRecord, NotFound, Outcome, StaleRevision, Written
from cx_kit.http import problem, status_problem

logger = logging.getLogger(__name__)

IF_MATCH = "If-Match"
# Responses holding a credential or personal data are kept out of every cache; public views vary by caller.
PRIVATE = {"Cache-Control": "no-store", "Vary": "Authorization"}
RETRY_AFTER_S = 5
_REVISION_TAG = re.compile(r'"([1-9][0-9]{0,17})"')

_PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
PROBLEM_RESPONSE = _PROBLEM  # the content of a problem answer, for other routes' `responses`
# What a route with a body may answer besides its own problems: unreadable, invalid, too large (any service).
BODY_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read as a JSON document (e.g. sent as a form).", **_PROBLEM},
    413: {"description": "The request body is too large.", **_PROBLEM},
    422: {"description": "Invalid input; `errors` names each field at fault.", **_PROBLEM},
}
# The problem answers of routes on owned records, for their OpenAPI `responses`.
READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "No token, or one that is malformed, wrongly signed, of another issuer or audience, or "
        "expired (WWW-Authenticate says which).",
        **_PROBLEM,
    },
    404: {"description": "No such record, withdrawn, or not one the caller may read.", **_PROBLEM},
    422: {"description": "Invalid input; `errors` names each field at fault.", **_PROBLEM},
    503: {
        "description": "The store or the sign-in issuer cannot be reached; try again after Retry-After.",
        **_PROBLEM,
    },
}
WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **READ_PROBLEMS,
    403: {
        "description": "A partnership manager's change (managers change nothing), or a contact set by a sign-in "
        "without a verified e-mail.",
        **_PROBLEM,
    },
    400: {"description": "The body cannot be read as a JSON document (e.g. sent as a form).", **_PROBLEM},
    412: {"description": "The record changed since it was read (stale If-Match); nothing changed.", **_PROBLEM},
    413: {"description": "The request body is too large.", **_PROBLEM},
    428: {"description": "If-Match is missing.", **_PROBLEM},
}
CREATE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **{code: WRITE_PROBLEMS[code] for code in (400, 401, 413, 422, 503)},
    403: {"description": "A partnership manager, or a sign-in without a verified e-mail: neither creates.", **_PROBLEM},
}
LIST_PROBLEMS: dict[int | str, dict[str, Any]] = {code: READ_PROBLEMS[code] for code in (401, 422, 503)}
_ETAG = {
    "description": 'The revision as a strong entity tag ("3"); send it back as If-Match to change the record.',
    "schema": {"type": "string", "pattern": '^"[1-9][0-9]*"$'},
}


def with_etag(description: str, *, location: bool = False) -> dict[str, Any]:
    """An OpenAPI response entry documenting the ETag header (and Location, for a create)."""
    headers: dict[str, Any] = {"ETag": _ETAG}
    if location:
        headers["Location"] = {"description": "Path of the new record.", "schema": {"type": "string"}}
    return {"description": description, "headers": headers}


def etag(revision: int) -> str:
    """The strong entity tag of a revision: `"3"`."""
    return f'"{revision}"'


class ProblemError(HTTPException):
    """An HTTP error with extra problem members (`errors`, `current_revision`), rendered by `install_handlers`."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(status, detail=detail, headers=headers)
        self.extra = extra


def problem_error(status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> ProblemError:
    """An error answered as an RFC 9457 problem with `detail` and the `extra` members."""
    return ProblemError(status, detail, headers=headers, **extra)


def not_found(what: str) -> HTTPException:
    """404: there is no such record, or it is not the caller's (the two are not told apart)."""
    return problem_error(404, f"No such {what}.")


async def expected_revision(
    if_match: Annotated[
        str | None,
        Header(
            alias=IF_MATCH,
            description='The revision the change is based on, as the ETag the record was read with: `"3"`. '
            "Required; a stale revision gets 412 and changes nothing.",
        ),
    ] = None,
) -> int:
    """The revision a write is based on, from its If-Match header (428 when absent, 422 when malformed)."""
    if if_match is None:
        raise problem_error(
            428,
            f'Send {IF_MATCH}: "<revision>" with the ETag you read, so a change made meanwhile is not overwritten.',
            errors=[{"field": IF_MATCH, "message": "Field required", "type": "missing"}],
        )
    match = _REVISION_TAG.fullmatch(if_match.strip())
    if match is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", IF_MATCH),
                    "type": "if_match",
                    "msg": 'Expected one strong entity tag naming a revision, such as "3" (with the quotes)',
                }
            ]
        )
    return int(match.group(1))


def written(outcome: Outcome, *, what: str) -> AggregateRecord:
    """The record a write produced; a stale revision is a 412 and a missing record a 404."""
    if isinstance(outcome, Written):
        return outcome.record
    if isinstance(outcome, StaleRevision):
        raise problem_error(
            412,
            f"The {what} changed since you read it: it is at revision {outcome.current}, your {IF_MATCH} named "
            f"{outcome.expected}. Read it again and re-apply your change.",
            headers={"ETag": etag(outcome.current)},
            current_revision=outcome.current,
        )
    assert isinstance(outcome, NotFound)
    raise not_found(what)


def json_document(document: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`document` as the JSON response, exactly as its own model serialises it (a subclass keeps its fields)."""
    return Response(document.model_dump_json(), status_code=status_code, media_type="application/json", headers=headers)


# A create's Idempotency-Key header (the IETF httpapi draft's name): the same key from the same organisation
# gives back what the first request made.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique text (a UUID, say) that the client keeps for this create: a retry with the same key "
        "returns the record the first request made instead of a second one. Reused with another body: 422.",
    ),
]


def json_fingerprint(document: Any) -> str:
    """A digest of a JSON document that does not depend on the order of its keys (what a retry must repeat)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_traceparent(request: Request) -> str:
    """A traceparent continuing the request's trace (a new trace when it carries none)."""
    return child_traceparent(request.headers.get("traceparent"))


def install_handlers(app: FastAPI) -> None:
    """Render `ProblemError`s with their extra members, and an unreachable store as 503 (never a 500)."""

    async def on_problem(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ProblemError)
        return status_problem(error.status_code, error.detail, headers=error.headers, **error.extra)

    async def on_outage(request: Request, error: Exception) -> JSONResponse:
        logger.warning("store unreachable", extra={"path": request.url.path, "error": type(error).__name__})
        response = problem(503, "Service unavailable", "The store cannot be reached right now; try again shortly.")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(ConnectionFailure, on_outage)
