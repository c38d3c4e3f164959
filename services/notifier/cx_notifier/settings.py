"""Settings of the notifier service (environment variables prefixed CX_NOTIFIER_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from cx_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the notifier service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_NOTIFIER_", extra="ignore", frozen=True)

    service_name: str = "cx-notifier"
    mongo_database: str = "notifier"
    http_port: int = 8104
