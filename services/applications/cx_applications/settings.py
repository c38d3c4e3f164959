"""Settings of the applications service (environment variables prefixed CX_APPLICATIONS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from cx_kit.settings import OwnedRecordSettings


class Settings(OwnedRecordSettings):
    """Everything the applications service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_APPLICATIONS_", extra="ignore", frozen=True)

    service_name: str = "cx-applications"
    mongo_database: str = "applications"
    http_port: int = 8102
