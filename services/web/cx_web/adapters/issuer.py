"""Sign-in with OpenID Connect through Authlib's Starlette client: authorisation code with PKCE (S256).

The same flow runs against the development issuer (whose /authorize page is the development sign-in
form), Keycloak in docker-compose and EU Login in production: only `CX_WEB_OIDC_ISSUER` differs. The pages
are a public client (no client secret), so PKCE is what binds the code to this browser's sign-in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import Response

from cx_web.domain.people import NotASchemeAccount, SignedInPerson

CLIENT = "issuer"
ALGORITHMS = ["RS256", "ES256"]


class SignInFailed(Exception):
    """The issuer did not sign the person in (refused, expired code, a token that does not check out)."""


@dataclass(frozen=True)
class SignedIn:
    """What a completed sign-in gives the session: who it is, the access token, when the token expires."""

    person: SignedInPerson
    access_token: str
    expires_at: float


class OpenIdIssuer:
    """The configured OpenID provider, as the pages use it."""

    def __init__(
        self, *, issuer: str, client_id: str, scope: str, audience: str, discovery_url: str | None = None
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._audience = audience
        self._oauth = OAuth()
        self._oauth.register(
            CLIENT,
            client_id=client_id,
            server_metadata_url=discovery_url or f"{self._issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": scope, "code_challenge_method": "S256", "token_endpoint_auth_method": "none"},
        )
        self._client: Any = self._oauth.create_client(CLIENT)

    async def sign_in(self, request: Request, redirect_uri: str) -> Response:
        """The redirect to the issuer's sign-in page (state, nonce and the PKCE verifier kept in the session)."""
        try:
            response: Response = await self._client.authorize_redirect(request, redirect_uri)
        except Exception as error:  # the issuer's discovery document could not be read
            raise SignInFailed(f"the sign-in service cannot be reached ({type(error).__name__})") from None
        return response

    async def complete(self, request: Request) -> SignedIn:
        """The person the issuer signed in, from its callback (the code exchanged for checked tokens)."""
        try:
            token = await self._client.authorize_access_token(request)
        except OAuthError as error:
            raise SignInFailed(error.description or error.error or "the issuer refused the sign-in") from None
        except Exception as error:
            raise SignInFailed(f"the sign-in could not be completed ({type(error).__name__})") from None
        access_token = str(token.get("access_token") or "")
        claims = {**dict(token.get("userinfo") or {}), **await self._access_claims(access_token)}
        try:
            person = SignedInPerson.from_claims(claims)
        except NotASchemeAccount as error:
            raise SignInFailed(str(error)) from None
        expires_at = float(token.get("expires_at") or time.time() + float(token.get("expires_in") or 300))
        return SignedIn(person, access_token, expires_at)

    async def _access_claims(self, access_token: str) -> dict[str, Any]:
        """The access token's claims, checked against the issuer's keys, issuer, audience and expiry.

        The services check it again on every call; here it says who signed in (the organisation, the role).
        """
        try:
            keys = KeySet.import_key_set(await self._client.fetch_jwk_set())
            decoded = jwt.decode(access_token, keys, algorithms=ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._audience},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise SignInFailed(f"the access token does not check out ({type(error).__name__})") from None
        return dict(decoded.claims)
