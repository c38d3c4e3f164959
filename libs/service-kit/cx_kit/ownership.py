"""Who is calling: the organisation that owns a record, or another service of the platform.

Every write and every private read of an organisation's record depends on `calling_organisation`, the one
place that turns a request into the caller's identity. Until the platform's access control issues real
tokens, the credential is an *owner token*: a create returns a random token once, the service stores only
its hash, and the hash is the owning organisation's id on the record. Plugging in real verification means
changing `optional_calling_organisation` (and `creating_organisation`, which for now issues the token) and
nothing else: routes and repositories only see the id.

Service-to-service calls (the notifier's contact look-up) carry the deployment's internal token instead:
`internal_service(settings)` builds that dependency.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cx_kit.settings import ServiceSettings

REALM = "clusterxchange"
OWNER_TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters; a longer token (a later, real credential) is fine, a shorter or
# oddly shaped one cannot be ours.
_OWNER_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,512}")

_owner_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OwnerToken",
    description="The owner_token returned once by the create request: `Authorization: Bearer <owner_token>`.",
)
_internal_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="InternalToken",
    description="The deployment's internal service token (service-to-service calls only).",
)


@dataclass(frozen=True)
class CallingOrganisation:
    """The organisation behind a request: `id` is its credential's id, stored as the owner of its records."""

    id: str


@dataclass(frozen=True)
class OwnerCredential:
    """A new owner token (shown to the client once) and the organisation id it proves."""

    token: str
    organisation: CallingOrganisation


@dataclass(frozen=True)
class NewRecordOwner:
    """Who will own a record being created; `owner_token` is set when a credential was issued for it."""

    organisation: CallingOrganisation
    owner_token: str | None = None


def credential_id(token: str) -> str:
    """The id of an owner token: its SHA-256 (a random 256-bit token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_owner_credential() -> OwnerCredential:
    """A fresh random owner token, and the organisation id that stands for it."""
    token = secrets.token_urlsafe(OWNER_TOKEN_BYTES)
    return OwnerCredential(token=token, organisation=CallingOrganisation(credential_id(token)))


def unauthorized(detail: str, *, error: str | None = None) -> HTTPException:
    """A 401 with the WWW-Authenticate challenge RFC 6750 asks for."""
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": challenge})


async def optional_calling_organisation(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_owner_bearer)],
) -> CallingOrganisation | None:
    """The calling organisation, or None for an anonymous request; a malformed credential is a 401."""
    if credentials is None:
        if request.headers.get("authorization") is not None:
            raise unauthorized("The Authorization header must be `Bearer <owner_token>`.", error="invalid_request")
        return None
    token = credentials.credentials
    if not _OWNER_TOKEN_SHAPE.fullmatch(token):
        raise unauthorized("The bearer token is not an owner token.", error="invalid_token")
    return CallingOrganisation(credential_id(token))


async def calling_organisation(
    caller: Annotated[CallingOrganisation | None, Depends(optional_calling_organisation)],
) -> CallingOrganisation:
    """The calling organisation; an anonymous request is a 401."""
    if caller is None:
        raise unauthorized("This needs the record's owner token: send `Authorization: Bearer <owner_token>`.")
    return caller


async def creating_organisation() -> NewRecordOwner:
    """The owner of a record being created: for now a fresh owner credential, returned to the client once."""
    credential = issue_owner_credential()
    return NewRecordOwner(credential.organisation, credential.token)


def internal_service(settings: ServiceSettings) -> Callable[..., Awaitable[None]]:
    """A dependency admitting only callers that hold the deployment's internal token (401 otherwise)."""
    expected = settings.internal_token.get_secret_value().encode()

    async def require_internal_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_internal_bearer)],
    ) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise unauthorized(
                "Internal endpoint: send `Authorization: Bearer <internal token>`.",
                error="invalid_token" if credentials is not None else None,
            )

    return require_internal_token
