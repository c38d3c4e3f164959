"""Settings of the catalogue service (environment variables prefixed CX_CATALOGUE_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from cx_kit.settings import OwnedRecordSettings


class Settings(OwnedRecordSettings):
    """Everything the catalogue service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_CATALOGUE_", extra="ignore", frozen=True)

    service_name: str = "cx-catalogue"
    mongo_database: str = "catalogue"
    http_port: int = 8101
