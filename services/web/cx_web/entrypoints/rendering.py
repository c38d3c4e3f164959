"""Pages from Jinja2 templates (autoescaped), with what every page shows: who is signed in, the CSRF token,
the message left by the last action."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cx_contracts.exchange import euros

from cx_web.domain.exchanges import grant_reasons, state_label, who
from cx_web.domain.records import labels
from cx_web.entrypoints.session import CSRF_FIELD, check_csrf, csrf_token, current_session, sign_in_url, take_flash

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE / "templates"
STATIC_DIR = PACKAGE / "static"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["labels"] = labels
# How the exchanges' pages put an exchange into words (their macros are imported without the page's context).
_environment.globals.update(money=euros, grant_reasons=grant_reasons, state_label=state_label, who=who)
_environment.globals["CSRF_FIELD"] = CSRF_FIELD
TEMPLATES = Jinja2Templates(env=_environment)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page rendered from `template`, with the session's person, CSRF token and one-time message."""
    session = current_session(request)
    common = {
        "person": session.person if session else None,
        "csrf_token": csrf_token(request),
        "flash": take_flash(request),
        "sign_in_url": sign_in_url(request.url.path),
        "path": request.url.path,
    }
    response = TEMPLATES.TemplateResponse(request, template, {**common, **context}, status_code=status_code)
    # Pages can hold personal data (an owner's contact) and depend on who is signed in: never cached.
    response.headers["Cache-Control"] = "no-store"
    return response


def fragment(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A piece of a page (what the page's script swaps in), rendered like a page."""
    response = TEMPLATES.TemplateResponse(request, template, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def see_other(path: str) -> RedirectResponse:
    """After a form: go to `path` (303, so a reload does not post again)."""
    return RedirectResponse(path, status_code=303)


def form_values(items: Sequence[tuple[str, Any]]) -> dict[str, list[str]]:
    """A submitted form's fields, each with all its values as text (files are not expected and dropped)."""
    values: dict[str, list[str]] = {}
    for name, value in items:
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
    return values


async def posted_form(request: Request) -> dict[str, list[str]]:
    """The fields of a posted form, once its CSRF token matched the session's."""
    form = form_values((await request.form()).multi_items())
    check_csrf(request, first(form, CSRF_FIELD))
    return form


IDEMPOTENCY_FIELD = "idempotency_key"


def create_key(values: Mapping[str, Sequence[str]] | None = None) -> str:
    """The Idempotency-Key of a create form: the one the form was rendered with (a UUID), or a new one. Sent with
    the form's POST, it makes a second click or a resent form give back what the first made."""
    posted = first(values or {}, IDEMPOTENCY_FIELD)
    try:
        return str(uuid.UUID(posted))
    except ValueError:
        return str(uuid.uuid4())


def first(values: Mapping[str, Sequence[str]], name: str) -> str:
    """A field's first value, or ''."""
    return next(iter(values.get(name, ())), "")
