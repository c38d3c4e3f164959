"""Settings of the matcher service (environment variables prefixed CX_MATCHER_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from cx_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the matcher service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_MATCHER_", extra="ignore", frozen=True)

    service_name: str = "cx-matcher"
    mongo_database: str = "matcher"
    http_port: int = 8103
