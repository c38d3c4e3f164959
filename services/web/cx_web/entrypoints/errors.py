"""What a person sees when something goes wrong: a page that says what happened and what to do, never a trace.

The kit's handlers answer API clients with problem documents; the pages answer people with HTML.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cx_web.entrypoints.rendering import page, see_other
from cx_web.entrypoints.session import FormExpired, SignInNeeded, end_session, flash, sign_in_url
from cx_web.handlers import NotAllowed, NotFound, ServiceUnavailable, SignInAgain

logger = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    403: "Not yours to change",
    404: "Page not found",
    405: "Not allowed",
    503: "Try again shortly",
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error page with its status."""
    return page(
        request, "error.html", status_code=status, title=_TITLES.get(status, "Something went wrong"), message=message
    )


def install_page_errors(app: FastAPI) -> None:
    """Answer the pages' errors with pages (these replace the kit's problem-document handlers)."""

    async def sign_in_needed(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInNeeded)
        return see_other(sign_in_url(error.next_path))

    async def sign_in_again(request: Request, error: Exception) -> Response:
        end_session(request)
        flash(request, "Your session has ended; please sign in again.")
        return see_other(sign_in_url(request.url.path if request.method == "GET" else "/"))

    async def not_found(request: Request, error: Exception) -> Response:
        return error_page(request, 404, "There is no such page, or it is not yours to see.")

    async def not_allowed(request: Request, error: Exception) -> Response:
        return error_page(request, 403, str(error) or "This is not yours to change.")

    async def unavailable(request: Request, error: Exception) -> Response:
        logger.warning("a service is unavailable", extra={"path": request.url.path, "error": str(error)})
        return error_page(
            request, 503, "Part of the platform is not answering right now. Please try again in a minute."
        )

    async def form_expired(request: Request, error: Exception) -> Response:
        return error_page(request, 400, "This form has expired. Go back, reload the page and send it again.")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        message = "There is no such page." if error.status_code == 404 else str(error.detail)
        return error_page(request, error.status_code, message)

    async def bad_address(request: Request, error: Exception) -> Response:
        # An id in the address that is not an id at all reads like any unknown page.
        return error_page(request, 404, "There is no such page.")

    async def unexpected(request: Request, error: Exception) -> Response:
        logger.exception("unhandled error", extra={"path": request.url.path})
        return error_page(request, 500, "Something went wrong on our side; it was logged. Please try again.")

    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(SignInAgain, sign_in_again)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(NotAllowed, not_allowed)
    app.add_exception_handler(ServiceUnavailable, unavailable)
    app.add_exception_handler(FormExpired, form_expired)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_address)
    app.add_exception_handler(Exception, unexpected)
