"""The authorisation-code flow with PKCE (RFC 6749 section 4.1, RFC 7636 with S256), as the pages use it.

A sign-in request is checked before anything is shown: the redirect URI must be loopback (or a host the
settings allow), or the issuer answers with an error page and never redirects. A code lives one minute
(`code_lifetime_s`) and is redeemed once, by the client it was issued to, with the verifier of its challenge.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from cx_dev_issuer.identities import DevIdentity
from cx_dev_issuer.settings import is_loopback

# RFC 7636 section 4.1: a verifier (and an S256 challenge) is 43-128 characters of the unreserved set.
_PKCE_TEXT = re.compile(r"[A-Za-z0-9._~-]{43,128}")
MAX_PARAMETER = 512


class RedirectRefused(ValueError):
    """The client or its redirect URI is not acceptable: answered on the issuer's page, never by a redirect."""


class AuthorisationError(ValueError):
    """A sign-in request the client must hear about (by a redirect carrying `error` and `state`)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorisationRequest:
    """A client's sign-in request, checked: who asks, where the answer goes, and the PKCE challenge."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str

    @classmethod
    def checked(cls, parameters: Mapping[str, str], redirect_hosts: Iterable[str]) -> AuthorisationRequest:
        """The request `parameters` make; RedirectRefused or AuthorisationError when they make none."""
        client_id = parameters.get("client_id", "")
        redirect_uri = parameters.get("redirect_uri", "")
        if not client_id or len(client_id) > MAX_PARAMETER:
            raise RedirectRefused("The sign-in request names no client (client_id).")
        allowed_redirect(redirect_uri, redirect_hosts)
        if parameters.get("response_type") != "code":
            raise AuthorisationError("unsupported_response_type", "Only response_type=code is supported.")
        scope = parameters.get("scope", "")
        if "openid" not in scope.split():
            raise AuthorisationError("invalid_scope", "The scope must include openid.")
        challenge = parameters.get("code_challenge", "")
        if parameters.get("code_challenge_method") != "S256" or not _PKCE_TEXT.fullmatch(challenge):
            raise AuthorisationError("invalid_request", "PKCE is required: code_challenge with method S256.")
        state, nonce = parameters.get("state") or None, parameters.get("nonce") or None
        if any(value is not None and len(value) > MAX_PARAMETER for value in (state, nonce, scope)):
            raise AuthorisationError("invalid_request", f"state, nonce and scope are at most {MAX_PARAMETER} long.")
        return cls(client_id, redirect_uri, scope, state, nonce, challenge)

    def parameters(self) -> dict[str, str]:
        """The request as the sign-in form carries it along (hidden fields)."""
        values = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
            "state": self.state or "",
            "nonce": self.nonce or "",
        }
        return values

    def answer(self, **values: str) -> str:
        """The redirect URI with `values` (and the state) in its query."""
        query = {**values, **({"state": self.state} if self.state else {})}
        separator = "&" if urlsplit(self.redirect_uri).query else "?"
        return f"{self.redirect_uri}{separator}{urlencode(query)}"


def allowed_redirect(uri: str, redirect_hosts: Iterable[str]) -> str:
    """`uri` if the issuer may send people there: http(s), no fragment, a loopback or allowed host."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or len(uri) > 2 * MAX_PARAMETER:
        raise RedirectRefused("The redirect_uri must be an http(s) address without a fragment.")
    if not (is_loopback(parts.hostname) or parts.hostname in set(redirect_hosts)):
        raise RedirectRefused(
            f"The redirect_uri's host {parts.hostname!r} is not loopback (allow it with CX_DEV_ISSUER_REDIRECT_HOSTS)."
        )
    return uri


def challenge_of(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class Grant:
    """What a code stands for until it is redeemed: the request it answers and who signed in."""

    request: AuthorisationRequest
    identity: DevIdentity
    expires_at: float


class GrantRefused(ValueError):
    """A token request that cannot be granted (RFC 6749 section 5.2: `invalid_grant`)."""


class AuthorisationCodes:
    """The codes handed out and not yet redeemed, each for `lifetime_s` and once (held in memory)."""

    def __init__(self, lifetime_s: float) -> None:
        self._lifetime_s = lifetime_s
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, request: AuthorisationRequest, identity: DevIdentity) -> str:
        """A fresh code for `identity` signing in on `request`."""
        code = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._grants = {key: grant for key, grant in self._grants.items() if grant.expires_at > now}
            self._grants[code] = Grant(request, identity, now + self._lifetime_s)
        return code

    def redeem(self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str) -> Grant:
        """The grant of `code`, which is gone afterwards whatever the outcome; GrantRefused when it does not fit."""
        with self._lock:
            grant = self._grants.pop(code, None)
        if grant is None or grant.expires_at <= time.monotonic():
            raise GrantRefused("The code is unknown, used or expired.")
        if grant.request.client_id != client_id or grant.request.redirect_uri != redirect_uri:
            raise GrantRefused("The code was issued to another client or redirect_uri.")
        if not _PKCE_TEXT.fullmatch(code_verifier) or not secrets.compare_digest(
            challenge_of(code_verifier), grant.request.code_challenge
        ):
            raise GrantRefused("The code_verifier does not match the code_challenge.")
        return grant
