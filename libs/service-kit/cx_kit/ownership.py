"""Who is calling, and what it may read or change: every access decision of the platform, made in one place.

A person signs in with OpenID Connect; a request carries the access token as `Authorization: Bearer <token>`.
`Ownership.caller` (and `optional_caller`, `creator`) turn the request into a `Caller`: the organisation
(its id is the owner of what it creates), the role (`member`, or `manager` of one partnership) and the
verified e-mail. `cx_kit.tokens` says whether the token is genuine; this module says what its claims mean:

- an organisation reads, changes and withdraws only its own records; another's record is not found (404)
  where records are private, and reads as its public view where they are public (the catalogue);
- a manager of partnership P reads the records whose partnership is P, in the owner's view, and changes
  nothing (403); records of other partnerships are not found (404) to it; it creates nothing;
- a record with two sides (an exchange: the visiting and the hosting organisation) is read by the organisations
  owning either side and the managers of either side's partnership; `own_sides` and `overseen_sides` say which
  sides a caller acts for, and the service decides which steps each side takes;
- a token that is missing, malformed, wrongly signed, of another issuer or audience, or expired is a 401
  problem with the RFC 6750 challenge; while the issuer cannot be reached, a 503.

Service-to-service calls (the notifier's contact look-up) carry the deployment's internal token instead:
`internal_service(settings)` builds that dependency. See docs/sign-in.md.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies' parameters from their annotations,
# and those of `Ownership` name dependencies made for each instance.

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cx_kit.aggregates import same_owner
from cx_kit.settings import ServiceSettings, SignInSettings
from cx_kit.tokens import IssuerKeys, IssuerUnreachable, TokenRefused, TokenVerifier

logger = logging.getLogger(__name__)

REALM = "clusterxchange"
MAX_ORGANISATION_ID = 120
ISSUER_RETRY_AFTER_S = 5

_person_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="SignIn",
    description="An OpenID Connect access token of the platform's issuer (EU Login; Keycloak in docker-compose; "
    "the development issuer locally): `Authorization: Bearer <token>`. See docs/sign-in.md.",
)
_internal_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="InternalToken",
    description="The deployment's internal service token (service-to-service calls only).",
)


class Role(StrEnum):
    """What a signed-in person does on the platform."""

    MEMBER = "member"  # of an organisation: creates and keeps its own records
    MANAGER = "manager"  # of a partnership: reads its organisations' records, changes none


@dataclass(frozen=True)
class Caller:
    """The person behind a request, as its token says: organisation, role, partnership, e-mail."""

    subject: str
    organisation: str  # the organisation's id: the owner of the records it creates
    role: Role = Role.MEMBER
    partnership: str | None = None  # for a manager, the partnership it manages
    email: str | None = None
    email_verified: bool = False
    organisation_name: str | None = None

    @property
    def is_manager(self) -> bool:
        """Whether the caller manages a partnership (and so changes nothing)."""
        return self.role is Role.MANAGER

    @property
    def verified_email(self) -> str | None:
        """The caller's e-mail address if the issuer verified it."""
        return self.email if self.email_verified and self.email else None


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The caller a verified token's claims describe; TokenRefused when they do not describe one."""
    organisation = claims.get("organisation")
    if not isinstance(organisation, str) or not 1 <= len(organisation) <= MAX_ORGANISATION_ID:
        raise TokenRefused(f"The token must name the organisation (1-{MAX_ORGANISATION_ID} characters).")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise TokenRefused("The token's sub must be text.")
    try:
        role = Role(claims.get("role") or Role.MEMBER)
    except ValueError as error:
        raise TokenRefused(f"The token's role must be one of {', '.join(Role)}.") from error
    partnership = claims.get("partnership")
    if partnership is not None and not isinstance(partnership, str):
        raise TokenRefused("The token's partnership must be text.")
    if role is Role.MANAGER and not partnership:
        raise TokenRefused("A manager's token must name its partnership.")
    email = claims.get("email")
    name = claims.get("organisation_name")
    return Caller(
        subject=subject,
        organisation=organisation,
        role=role,
        partnership=partnership or None,
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        organisation_name=name if isinstance(name, str) and name else None,
    )


class OwnedRecord(Protocol):
    """What access is decided on: who owns a record and which partnership it names."""

    @property
    def owner(self) -> str: ...

    @property
    def partnership(self) -> str | None: ...


class View(StrEnum):
    """How a caller sees a record."""

    OWNER = "owner"  # everything, with the contact: its owner, and the managers of its partnership
    PUBLIC = "public"  # organisation and answers, never the contact


def read_view(caller: Caller | None, record: OwnedRecord, *, public: bool) -> View | None:
    """How `caller` may read `record`; None: not at all (the record reads as missing)."""
    if caller is not None and may_oversee(caller, record):
        return View.OWNER
    if caller is not None and not caller.is_manager and same_owner(record.owner, caller.organisation):
        return View.OWNER
    return View.PUBLIC if public else None


def may_oversee(caller: Caller, record: OwnedRecord) -> bool:
    """Whether `caller` manages the partnership `record` names."""
    return caller.is_manager and record.partnership is not None and record.partnership == caller.partnership


SideName = TypeVar("SideName", bound=str)


def own_sides(caller: Caller, sides: Mapping[SideName, OwnedRecord]) -> frozenset[SideName]:
    """The sides of a two-sided record that the caller's organisation owns (none for a manager, who acts for no
    organisation)."""
    if caller.is_manager:
        return frozenset()
    return frozenset(name for name, side in sides.items() if same_owner(side.owner, caller.organisation))


def overseen_sides(caller: Caller, sides: Mapping[SideName, OwnedRecord]) -> frozenset[SideName]:
    """The sides of a two-sided record whose partnership the caller manages."""
    return frozenset(name for name, side in sides.items() if may_oversee(caller, side))


SIGNED_IN_EMAIL = "Must be the address you signed in with"
# Why a token without a verified e-mail cannot create a record or set its contact.
VERIFIED_EMAIL_NEEDED = (
    "Your sign-in has no verified e-mail address, and a contact's address must be the one you signed in with."
)


def forbidden(detail: str) -> HTTPException:
    """A 403: the caller is known, and this is not for it."""
    return HTTPException(403, detail=detail)


def manager_write_refused() -> HTTPException:
    """The answer to a manager's change of a record of its partnership: managers change nothing."""
    return forbidden("A partnership manager reads its organisations' records and changes none.")


def contact_for(caller: Caller, submitted: Mapping[str, Any]) -> dict[str, Any]:
    """The contact a caller may set: the person signed in, at the verified address its token holds.

    The address may be left out (the token's is used) or must be that one, ignoring case (a 422 naming
    `contact.email` otherwise); without a verified address no contact can be set (403). So nobody can make
    the platform write to an address they do not hold.
    """
    verified = caller.verified_email
    if verified is None:
        raise forbidden(VERIFIED_EMAIL_NEEDED)
    given = submitted.get("email")
    if given is not None and given.casefold() != verified.casefold():
        raise RequestValidationError(
            [{"loc": ("body", "contact", "email"), "type": "signed_in_email", "msg": SIGNED_IN_EMAIL}]
        )
    return {"name": submitted["name"], "email": verified}


def unauthorized(detail: str, *, error: str | None = None) -> HTTPException:
    """A 401 with the WWW-Authenticate challenge RFC 6750 asks for."""
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": challenge})


class Ownership:
    """The dependencies that say who is calling, on one issuer's tokens: `optional_caller` (public routes),
    `caller` (every private route) and `creator` (who may create a record)."""

    def __init__(self, verifier: TokenVerifier) -> None:
        async def optional_caller(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_person_bearer)],
        ) -> Caller | None:
            """The caller, or None for an anonymous request; a bad token is a 401 all the same."""
            if credentials is None:
                if request.headers.get("authorization") is not None:
                    raise unauthorized("The Authorization header must be `Bearer <token>`.", error="invalid_request")
                return None
            return await _verified_caller(verifier, credentials.credentials)

        async def caller(found: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
            """The signed-in caller; an anonymous request is a 401."""
            if found is None:
                raise unauthorized("Sign in: send `Authorization: Bearer <access token>`.")
            return found

        async def creator(found: Annotated[Caller, Depends(caller)]) -> Caller:
            """A caller who may create a record: a member with a verified e-mail (403 otherwise)."""
            if found.is_manager:
                raise forbidden("A partnership manager does not create records; sign in as the organisation.")
            if found.verified_email is None:
                raise forbidden(VERIFIED_EMAIL_NEEDED)
            return found

        self.optional_caller = optional_caller
        self.caller = caller
        self.creator = creator

    @classmethod
    def of(cls, settings: SignInSettings) -> "Ownership":
        """The ownership of a service: its issuer's keys (by discovery unless configured), its audience."""
        keys = IssuerKeys(settings.oidc_issuer, settings.oidc_jwks_url)
        return cls(TokenVerifier(keys, issuer=settings.oidc_issuer, audience=settings.oidc_audience))


async def _verified_caller(verifier: TokenVerifier, token: str) -> Caller:
    try:
        return caller_from_claims(await verifier.claims(token))
    except TokenRefused as refused:
        raise unauthorized(str(refused), error="invalid_token") from None
    except IssuerUnreachable as error:
        logger.warning("the sign-in issuer cannot be reached", extra={"error": str(error)})
        raise HTTPException(
            503,
            detail="Sign-in cannot be checked right now (the issuer does not answer); try again shortly.",
            headers={"Retry-After": str(ISSUER_RETRY_AFTER_S)},
        ) from None


def internal_service(settings: ServiceSettings) -> Callable[..., Awaitable[None]]:
    """A dependency admitting only callers that hold the deployment's internal token (401 otherwise)."""
    expected = settings.internal_token.get_secret_value().encode()

    async def require_internal_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_internal_bearer)],
    ) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        # Nothing configured or nothing sent is refused before comparing: empty equals empty.
        if not expected or not given or not hmac.compare_digest(given, expected):
            raise unauthorized(
                "Internal endpoint: send `Authorization: Bearer <internal token>`.",
                error="invalid_token" if credentials is not None else None,
            )

    return require_internal_token
