"""Who signs in to the development issuer, and the tokens it signs for them.

The organisation's id is a stable slug of its name ("Test Cluster" -> `test-cluster`), so the same name signs
in as the same organisation every time; the e-mail defaults to `contact@<slug>.example`, verified.
"""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from pydantic import TypeAdapter, ValidationError

from cx_contracts.scalars import EmailAddress

from cx_dev_issuer.keys import ALGORITHM, SigningKey
from cx_dev_issuer.settings import DEFAULT_AUDIENCE

Role = Literal["member", "manager"]
ROLES: tuple[Role, ...] = ("member", "manager")
MAX_ORGANISATION_ID = 120
MAX_ORGANISATION_NAME = 200
_EMAIL = TypeAdapter(EmailAddress)


class IdentityError(ValueError):
    """What was typed does not describe someone who can sign in; `field` says which field is at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def organisation_id(name: str) -> str:
    """The stable id of an organisation named `name`: lower-case ASCII words joined by dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_ORGANISATION_ID].rstrip("-")


@dataclass(frozen=True)
class DevIdentity:
    """A person signing in: the organisation's name, the e-mail, the role and (for a manager) the partnership."""

    organisation_name: str
    email: str
    role: Role = "member"
    partnership: str | None = None
    email_verified: bool = True

    @classmethod
    def of(
        cls,
        organisation_name: str,
        *,
        email: str | None = None,
        role: str = "member",
        partnership: str | None = None,
        email_verified: bool = True,
    ) -> DevIdentity:
        """The identity these answers describe; IdentityError naming the field when they describe none."""
        name = " ".join(organisation_name.split())
        if not name or len(name) > MAX_ORGANISATION_NAME or not organisation_id(name):
            raise IdentityError(
                "organisation", f"Name the organisation (1-{MAX_ORGANISATION_NAME} characters, some letters)."
            )
        if role not in ROLES:
            raise IdentityError("role", f"The role is one of {', '.join(ROLES)}.")
        partnership = (partnership or "").strip() or None
        if role == "manager" and partnership is None:
            raise IdentityError("partnership", "A manager names the partnership it manages.")
        if role == "member" and partnership is not None:
            raise IdentityError("partnership", "Only a manager names a partnership (--role manager).")
        address = (email or "").strip() or f"contact@{organisation_id(name)}.example"
        try:
            address = _EMAIL.validate_python(address)
        except ValidationError as error:
            raise IdentityError("email", f"Not an e-mail address: {address}") from error
        return cls(name, address, "manager" if role == "manager" else "member", partnership, email_verified)

    @property
    def organisation(self) -> str:
        """The organisation's id, the `organisation` claim."""
        return organisation_id(self.organisation_name)

    @property
    def subject(self) -> str:
        """The person's `sub`: stable for one address of one organisation."""
        return f"dev:{self.organisation}:{self.email.lower()}"

    def claims(self) -> dict[str, Any]:
        """The identity claims every token of this person carries (docs/sign-in.md)."""
        claims: dict[str, Any] = {
            "sub": self.subject,
            "organisation": self.organisation,
            "organisation_name": self.organisation_name,
            "email": self.email,
            "email_verified": self.email_verified,
            "role": self.role,
        }
        if self.partnership is not None:
            claims["partnership"] = self.partnership
        return claims


def signed(key: SigningKey, claims: dict[str, Any]) -> str:
    """`claims` as a JWT signed with `key`, its header naming the key."""
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


def access_token(
    key: SigningKey,
    identity: DevIdentity,
    *,
    issuer: str,
    audience: str = DEFAULT_AUDIENCE,
    lifetime_s: int = 3600,
    issued_at: int | None = None,
    scope: str = "openid email profile",
) -> str:
    """An access token the services accept for `identity` (until `lifetime_s` after `issued_at`, default now)."""
    now = int(time.time()) if issued_at is None else issued_at
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_s,
        "jti": str(uuid.uuid4()),
        "scope": scope,
        **identity.claims(),
    }
    return signed(key, claims)


def id_token(
    key: SigningKey, identity: DevIdentity, *, issuer: str, client_id: str, nonce: str | None, lifetime_s: int
) -> str:
    """The OpenID Connect ID token of a sign-in: for the client that asked, echoing its nonce."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "auth_time": now,
        "exp": now + lifetime_s,
        **identity.claims(),
    }
    if nonce:
        claims["nonce"] = nonce
    return signed(key, claims)
