"""Bearer tokens: an OpenID Connect access token, checked with PyJWT against the issuer's published keys.

A token is accepted when its signature verifies with a key of the issuer's JWKS (found by its `kid`; RS256 or
ES256), `iss` is the configured issuer exactly, `aud` holds the configured audience, and `exp` / `iat` are
there and not past (60 s leeway for clock skew). What the claims mean for access is `cx_kit.ownership`'s
business; this module only says whether a token is genuine and current (docs/sign-in.md).

The keys come from the issuer's JWKS, whose address is read from its discovery document on the first token
(so a service starts while the issuer is still starting) unless it is configured. PyJWT's `PyJWKClient`
caches the set and reads it again when a token names a `kid` it does not hold (at most every 30 s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient

logger = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "ES256")
LEEWAY_S = 60
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub")
DISCOVERY_PATH = "/.well-known/openid-configuration"
ISSUER_TIMEOUT_S = 5.0
JWKS_LIFESPAN_S = 300.0
# The longest token taken apart: an access token with a handful of claims is under 2 kB, Keycloak's under 4 kB.
MAX_TOKEN_LENGTH = 8192


class TokenRefused(Exception):
    """The token is not acceptable: malformed, wrongly signed, of another issuer or audience, or expired."""


class IssuerUnreachable(Exception):
    """The issuer's discovery document or keys could not be read, so no token can be checked right now."""


class SigningKeys(Protocol):
    """Where the key that signed a token comes from (blocking: called in a worker thread)."""

    def key_for(self, kid: str) -> PyJWK:
        """The issuer's key named `kid`; TokenRefused when the issuer has none, IssuerUnreachable when it is down."""
        ...


def discovery_url(issuer: str) -> str:
    """Where an issuer publishes its OpenID configuration."""
    return issuer.rstrip("/") + DISCOVERY_PATH


class IssuerKeys:
    """The signing keys of one issuer, read from its JWKS (found through its discovery document if not given)."""

    def __init__(self, issuer: str, jwks_url: str | None = None, *, timeout: float = ISSUER_TIMEOUT_S) -> None:
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._timeout = timeout
        self._client: PyJWKClient | None = None
        self._lock = threading.Lock()

    def _jwks_client(self) -> PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self._jwks_url or self._discovered_jwks_url()
                self._client = PyJWKClient(url, lifespan=JWKS_LIFESPAN_S, timeout=self._timeout)
            return self._client

    def _discovered_jwks_url(self) -> str:
        where = discovery_url(self._issuer)
        try:
            with urllib.request.urlopen(where, timeout=self._timeout) as response:
                document = json.load(response)
        except (OSError, ValueError) as error:
            raise IssuerUnreachable(f"cannot read {where}: {error}") from error
        if not isinstance(document, Mapping) or not isinstance(document.get("jwks_uri"), str):
            raise IssuerUnreachable(f"{where} names no jwks_uri")
        if document.get("issuer") != self._issuer:
            # A discovery document of another issuer would make every token fail its `iss` check: say so once.
            logger.warning("the discovery document names another issuer", extra={"issuer": document.get("issuer")})
        return str(document["jwks_uri"])

    def key_for(self, kid: str) -> PyJWK:
        """The key `kid` of the issuer's JWKS (read again once when it is not among the cached keys)."""
        client = self._jwks_client()
        try:
            return client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            raise IssuerUnreachable(str(error)) from error
        except jwt.PyJWKClientError as error:
            raise TokenRefused("No key of the issuer signed this token.") from error


class TokenVerifier:
    """Checks bearer tokens of one issuer and audience; returns the claims of a genuine, current token."""

    def __init__(self, keys: SigningKeys, *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`; TokenRefused (say why) or IssuerUnreachable otherwise."""
        kid = self._key_id(token)
        key = await asyncio.to_thread(self._keys.key_for, kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_S,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": False},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenRefused("The token has expired.") from error
        except jwt.InvalidAudienceError as error:
            raise TokenRefused(
                f"The token is not meant for this platform (aud must hold {self._audience!r})."
            ) from error
        except jwt.InvalidIssuerError as error:
            raise TokenRefused("The token comes from another issuer.") from error
        except jwt.MissingRequiredClaimError as error:
            raise TokenRefused(f"The token lacks the {error.claim!r} claim.") from error
        except jwt.InvalidSignatureError as error:
            raise TokenRefused("The token's signature does not verify.") from error
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"The token is not valid: {error}.") from error
        return claims

    @staticmethod
    def _key_id(token: str) -> str:
        # Looked at before any key is fetched, so a junk or unsigned token never makes the service call the issuer.
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenRefused("The token is too long.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenRefused("The bearer token is not a JWT.") from error
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused(f"Tokens must be signed with {' or '.join(ALGORITHMS)}.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("The token names no signing key (kid).")
        return kid
