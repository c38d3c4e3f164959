"""Settings of the development issuer (environment variables prefixed CX_DEV_ISSUER_)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_KEY_FILE = REPO_ROOT / ".run" / "dev-issuer" / "signing-key.pem"
DEFAULT_AUDIENCE = "clusterxchange"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _comma_separated(value: Any) -> Any:
    return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value


class Settings(BaseSettings):
    """Where the development issuer listens, which key it signs with, and whom it redirects to."""

    model_config = SettingsConfigDict(env_prefix="CX_DEV_ISSUER_", extra="ignore", frozen=True)

    host: str = Field("127.0.0.1", description="Loopback address to listen on; nothing else is accepted.")
    port: int = Field(8090, ge=1, le=65535)
    url: str | None = Field(None, description="The issuer (`iss`); empty: http://<host>:<port>.")
    key_file: Path = Field(DEFAULT_KEY_FILE, description="The signing key (PEM), created on first use.")
    redirect_hosts: Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)] = Field(
        default_factory=list, description="Hosts besides loopback that sign-in may redirect to (comma-separated)."
    )
    audience: str = Field(DEFAULT_AUDIENCE, min_length=1, description="The `aud` of the access tokens it issues.")
    token_lifetime_s: int = Field(3600, ge=60, le=86400, description="How long an issued token is valid.")
    code_lifetime_s: float = Field(60.0, gt=0, le=600, description="How long an authorisation code may be redeemed.")

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        # A development issuer signs whatever identity is typed into it: it must never be reachable from elsewhere.
        if not is_loopback(host):
            raise ValueError("the development issuer listens on loopback only")
        return host

    @property
    def issuer(self) -> str:
        """The issuer identifier every token carries as `iss`."""
        return (self.url or f"http://{self.host}:{self.port}").rstrip("/")
