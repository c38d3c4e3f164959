"""The signed session cookie and what the pages keep in it: who is signed in, the token, the CSRF token.

The cookie is Starlette's SessionMiddleware: signed with the session secret (itsdangerous), HttpOnly,
SameSite=Lax, Secure in production. It holds the access token, so the browser's JavaScript never sees it;
forms carry a CSRF token that must match the session's; signing out empties the session.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request

from cx_web.domain.people import SignedInPerson

SESSION_COOKIE = "cx_session"
PERSON = "person"
ACCESS_TOKEN = "access_token"
EXPIRES_AT = "expires_at"
CSRF = "csrf"
FLASH = "flash"
CSRF_FIELD = "csrf_token"
# A token this close to its expiry is not sent: the person signs in again before the call fails halfway.
EXPIRY_MARGIN_S = 30


class SignInNeeded(Exception):
    """The page needs a signed-in person; answered by a redirect to sign-in and back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class FormExpired(Exception):
    """A form came back without the session's CSRF token (an old tab, or another site posting it)."""


@dataclass(frozen=True)
class Session:
    """A signed-in person's session: who it is and the token its calls carry."""

    person: SignedInPerson
    token: str


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, otherwise `default` (never an open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def sign_in_url(next_path: str) -> str:
    """The sign-in link that comes back to `next_path`."""
    return "/sign-in?" + urlencode({"next": local_path(next_path)})


def current_session(request: Request) -> Session | None:
    """The signed-in session, or None (never signed in, signed out, or the token expired)."""
    data = request.session
    person, token = data.get(PERSON), data.get(ACCESS_TOKEN)
    if not person or not token:
        return None
    if float(data.get(EXPIRES_AT) or 0) < time.time() + EXPIRY_MARGIN_S:
        end_session(request)
        return None
    return Session(SignedInPerson.from_session(person), str(token))


def signed_in(request: Request) -> Session:
    """The signed-in session; without one, sign in first and come back here."""
    session = current_session(request)
    if session is None:
        raise SignInNeeded(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return session


SignedIn = Annotated[Session, Depends(signed_in)]
MaybeSignedIn = Annotated[Session | None, Depends(current_session)]


def start_session(request: Request, person: SignedInPerson, token: str, expires_at: float) -> None:
    """Keep a completed sign-in (a fresh session: nothing of the anonymous one carries over)."""
    request.session.clear()
    request.session.update({PERSON: person.as_session(), ACCESS_TOKEN: token, EXPIRES_AT: expires_at})


def end_session(request: Request) -> None:
    """Sign out: the session keeps nothing."""
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF] = token
    return str(token)


def check_csrf(request: Request, given: str) -> None:
    """A posted form must carry the session's CSRF token."""
    expected = request.session.get(CSRF)
    if not expected or not given or not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise FormExpired


def flash(request: Request, message: str) -> None:
    """A message the next page shows once (after a redirect)."""
    request.session[FLASH] = message


def take_flash(request: Request) -> str | None:
    """The message left for this page, if any; it is shown once."""
    message = request.session.pop(FLASH, None)
    return str(message) if message else None
