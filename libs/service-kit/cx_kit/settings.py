"""The settings every service shares; each service subclasses with its own env prefix (CX_<SERVICE>_)."""

from __future__ import annotations

import warnings
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "changethis"


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
    outbox_lease_s: float = Field(30.0, gt=0, description="How long a relay owns a document's outbox.")
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
        SecretStr(PLACEHOLDER_SECRET),
        description="Shared secret of service-to-service calls (e.g. the notifier's contact lookup).",
    )

    def topic(self, name: str) -> str:
        """The topic `name` (from cx_contracts.topics) in this deployment's namespace."""
        return self.topic_namespace + name

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        # Outside development a default secret is a misconfiguration, not a convenience.
        if self.internal_token.get_secret_value() == PLACEHOLDER_SECRET:
            message = (
                f"{self.model_config.get('env_prefix', '')}INTERNAL_TOKEN is the placeholder "
                f"{PLACEHOLDER_SECRET!r}; set a real secret"
            )
            if self.environment == "production":
                raise ValueError(message)
            if self.environment == "development":
                warnings.warn(message, stacklevel=2)
        return self
