"""What every service's HTTP side shares: health, readiness, metrics, problem details, a body-size limit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
ReadinessCheck = Callable[[], Awaitable[bool]]


def problem(
    status: int, title: str, detail: str | None = None, *, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    """An RFC 9457 problem-details response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def status_problem(
    status: int, detail: str | None, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem titled after its status, carrying the error's headers (a challenge, an ETag) and members."""
    response = problem(status, STATUS_TITLES.get(status, "Error"), detail, **extra)
    response.headers.update(headers or {})
    return response


def field_path(location: Iterable[Any]) -> str:
    """`("body", "answers", "ecosystems", 0)` -> `answers.ecosystems[0]`: the field as a client names it."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def _validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid"), "type": e.get("type", "")}
        for e in error.errors()
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem(422, "Invalid input", f"Invalid value for: {fields}", type_="/problems/validation", errors=errors)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves as problem+json; bad input names the field, and nothing internal leaks."""

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Starlette types `detail` as text; FastAPI's HTTPException also takes a mapping, sent as problem members.
        given: Any = error.detail
        detail = given if isinstance(given, str) else None
        extra: dict[str, Any] = given if isinstance(given, dict) else {}
        headers = error.headers
        if error.status_code == 405:
            # Starlette's Allow names the methods of the first route whose path matched; RFC 9110 wants all.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return status_problem(error.status_code, detail, headers=headers, **extra)

    @app.exception_handler(Exception)
    async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "Internal error", "The request could not be completed; it was logged.")


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app fully answers on the request's path, sorted (asked of the routes
    themselves, so routers included in others count too)."""
    routes = request.app.router.routes
    return [m for m in _METHODS if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)]


STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    428: "Precondition required",
    503: "Service unavailable",
}


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with a 413 problem before they are read into memory.

    FastAPI's own `max_body_size` answers with a text/plain 413 from below the exception handlers;
    the platform promises problem details for every error, hence this small middleware.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "Payload too large", f"Request bodies are limited to {self.max_bytes} bytes.")
        await response(scope, receive, send)


class _TooLarge(BaseException):
    # A BaseException, so the framework's own body parsing (which catches Exception) lets it through.
    pass


def health_router(checks: dict[str, ReadinessCheck], reported: dict[str, ReadinessCheck] | None = None) -> APIRouter:
    """`/healthz` (the process answers) and `/readyz`: 503 while a dependency in `checks` (what the service needs
    to answer requests) is down; those in `reported` are shown but do not take the service out of traffic."""
    router = APIRouter(tags=["operations"])
    reported = reported or {}

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: what requests need answers (others are reported)")
    async def readyz() -> JSONResponse:
        needed = {name: await check() for name, check in checks.items()}
        shown = {name: await check() for name, check in reported.items()}
        ready = all(needed.values())
        status = "unavailable" if not ready else "ready" if all(shown.values()) else "degraded"
        body = {"status": status, "checks": {k: ("ok" if v else "down") for k, v in (needed | shown).items()}}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def build_http_app(
    *,
    title: str,
    version: str,
    registry: CollectorRegistry,
    readiness: dict[str, ReadinessCheck],
    max_request_bytes: int,
    lifespan: Any = None,
    description: str = "",
    reported: dict[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """A FastAPI app with the platform's operational endpoints and error format already in place."""
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(health_router(readiness, reported))
    Instrumentator(registry=registry, excluded_handlers=["/healthz", "/readyz", "/metrics"]).instrument(app)
    app.mount("/metrics", make_asgi_app(registry=registry))
    app.add_middleware(BodySizeLimit, max_bytes=max_request_bytes)
    return app
