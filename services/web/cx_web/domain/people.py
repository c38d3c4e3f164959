"""Who is signed in: the person, its organisation and, for a partnership manager, the partnership it manages.

Read from the claims of the tokens the issuer gave at sign-in (docs/sign-in.md names them); the services
check the access token again on every call, so nothing here grants access: it only shapes the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

MANAGER = "manager"


class NotASchemeAccount(ValueError):
    """The issuer signed the person in, but its tokens name no organisation (or a manager no partnership)."""


@dataclass(frozen=True)
class SignedInPerson:
    """The person behind a session."""

    subject: str
    organisation: str
    organisation_name: str
    email: str | None
    role: str
    partnership: str | None

    @property
    def is_manager(self) -> bool:
        """A partnership manager reads its partnership's records and changes none."""
        return self.role == MANAGER

    @property
    def display_name(self) -> str:
        """How the page header names who is signed in."""
        return self.organisation_name or self.organisation

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> SignedInPerson:
        """The person named by token claims; a token without an organisation is no scheme account."""
        organisation = str(claims.get("organisation") or "")
        subject = str(claims.get("sub") or "")
        if not organisation or not subject:
            raise NotASchemeAccount("the issuer's tokens name no organisation")
        role = str(claims.get("role") or "member")
        partnership = claims.get("partnership")
        if role == MANAGER and not partnership:
            raise NotASchemeAccount("a manager's token names no partnership")
        verified = claims.get("email_verified") is True
        return cls(
            subject=subject,
            organisation=organisation,
            organisation_name=str(claims.get("organisation_name") or organisation),
            email=str(claims["email"]) if claims.get("email") and verified else None,
            role=role,
            partnership=str(partnership) if partnership else None,
        )

    def as_session(self) -> dict[str, Any]:
        """The person as the session cookie keeps it."""
        return asdict(self)

    @classmethod
    def from_session(cls, data: Mapping[str, Any]) -> SignedInPerson:
        """The person a session cookie kept."""
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})  # type: ignore[arg-type]
