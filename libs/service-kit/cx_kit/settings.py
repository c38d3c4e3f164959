"""The settings every service shares; each service subclasses with its own env prefix (CX_<SERVICE>_)."""

from __future__ import annotations

import json
import re
import warnings
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cx_contracts.vocabulary import PARTNERSHIP_ID_PATTERN, PARTNERSHIPS

PLACEHOLDER_SECRET = "changethis"
# The shortest shared secret a service accepts (32 characters: 128 bits as hex, more as anything else).
MIN_SECRET_CHARS = 32
# The development issuer `make run` starts (tools/dev-issuer): a default for development and tests only.
DEVELOPMENT_ISSUER = "http://127.0.0.1:8090"
DEFAULT_AUDIENCE = "clusterxchange"


def _listed(value: Any) -> Any:
    # A list from the environment: `a,b,c` as people write it, or a JSON array.
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text.startswith("[") else [item.strip() for item in text.split(",") if item.strip()]
    return value


# A list setting read from one environment variable, comma-separated or as a JSON array.
ListedSetting = Annotated[list[str], NoDecode, BeforeValidator(_listed)]


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// address")
    return value


class ServiceSettings(BaseSettings):
    """Connection, HTTP, logging and reliability settings common to every service."""

    model_config = SettingsConfigDict(env_prefix="CX_", extra="ignore", frozen=True)

    service_name: str = "cx-service"
    environment: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    mongo_url: SecretStr = Field(SecretStr("mongodb://127.0.0.1:27017"), description="MongoDB connection URI.")
    mongo_database: str = "cx"
    mongo_max_pool_size: int = Field(
        1,
        ge=1,
        le=500,
        description="Connections to the store. Keep 1 on FerretDB 1.x (its updates are not atomic across "
        "connections; see cx_kit.mongo); raise it on a real MongoDB.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(8100, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    max_request_bytes: int = Field(256 * 1024, ge=1024, description="Larger request bodies get 413.")
    outbox_poll_interval_s: float = Field(0.5, gt=0, description="Relay poll period when nothing wakes it.")
    outbox_lease_s: float = Field(
        90.0,
        gt=0,
        description="How long a relay owns a document's outbox, renewed before each event; longer than the "
        "producer's delivery deadline (40 s), so that a given-up publish cannot land after the next holder's.",
    )
    consumer_max_attempts: int = Field(5, ge=1, description="Tries of a failing record before the dead-letter topic.")
    consumer_backoff_initial_s: float = Field(0.2, ge=0)
    consumer_backoff_max_s: float = Field(5.0, ge=0)
    topic_namespace: str = Field(
        "",
        pattern=r"^([a-z0-9][a-z0-9-]{0,40}\.)?$",
        description="Prefix of every topic name (e.g. 'staging.'); empty in production. Lets tests and "
        "parallel environments share one broker without reading each other's events.",
    )
    internal_token: SecretStr = Field(
        SecretStr(""),
        description="Shared secret of service-to-service calls (e.g. the notifier's contact lookup): at least "
        f"{MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 32`). Unset, the internal routes refuse every "
        "caller; production refuses to start without it.",
    )

    def topic(self, name: str) -> str:
        """The topic `name` (from cx_contracts.topics) in this deployment's namespace."""
        return self.topic_namespace + name

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> ServiceSettings:
        # A short or empty secret is guessed, or compared equal to an empty credential: refused in every
        # environment; unset is allowed outside production only, and then no caller is let in.
        name = f"{self.model_config.get('env_prefix', '')}INTERNAL_TOKEN"
        token = self.internal_token.get_secret_value()
        if token and len(token) < MIN_SECRET_CHARS:
            raise ValueError(f"{name} has {len(token)} characters; a secret needs at least {MIN_SECRET_CHARS}")
        if not token:
            message = f"{name} is not set; the internal routes refuse every caller (e.g. the notifier's contact lookup)"
            if self.environment == "production":
                raise ValueError(f"{name} is not set; set a random secret (e.g. openssl rand -hex 32)")
            if self.environment == "development":
                warnings.warn(message, stacklevel=2)
        return self


class SignInSettings(ServiceSettings):
    """The settings of a service that accepts people's bearer tokens: whose tokens, for which audience."""

    oidc_issuer: str = Field(
        DEVELOPMENT_ISSUER,
        description="The OpenID Connect issuer whose bearer tokens are accepted (its `iss`, exactly); the default, "
        "the development issuer, is refused in production.",
    )
    oidc_audience: str = Field(
        DEFAULT_AUDIENCE, min_length=1, description="The audience an accepted token's `aud` must hold."
    )
    oidc_jwks_url: str | None = Field(
        None,
        description="Where the issuer's signing keys are (JWKS); empty: from the issuer's discovery document, "
        "<issuer>/.well-known/openid-configuration.",
    )

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_address(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("oidc_jwks_url")
    @classmethod
    def _keys_address(cls, value: str | None) -> str | None:
        return _http_url(value) if value else None

    @model_validator(mode="after")
    def _refuse_the_development_issuer(self) -> SignInSettings:
        # Outside development and test, tokens the development issuer signs must never open anything.
        if self.environment == "production" and self.oidc_issuer.rstrip("/") == DEVELOPMENT_ISSUER:
            prefix = self.model_config.get("env_prefix", "")
            raise ValueError(f"{prefix}OIDC_ISSUER is the development issuer {DEVELOPMENT_ISSUER}; set the real one")
        return self


class OwnedRecordSettings(SignInSettings):
    """The settings of a service whose records organisations own and name their partnership in."""

    partnerships: ListedSetting = Field(
        default_factory=lambda: list(PARTNERSHIPS),
        min_length=1,
        description="Ids of the scheme's partnerships a record may name (comma-separated); by default the 13 "
        "ESCP-4x partnerships of cx_contracts.vocabulary.PARTNERSHIPS.",
    )

    @field_validator("partnerships")
    @classmethod
    def _partnership_ids(cls, ids: list[str]) -> list[str]:
        pattern = re.compile(PARTNERSHIP_ID_PATTERN)
        wrong = [value for value in ids if not pattern.fullmatch(value)]
        if wrong:
            raise ValueError(f"not partnership ids (lower-case letters, digits, dashes): {wrong}")
        return list(dict.fromkeys(ids))
