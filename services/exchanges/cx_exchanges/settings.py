"""Settings of the exchanges service (environment variables prefixed CX_EXCHANGES_)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from cx_contracts.vocabulary import ELIGIBLE_COUNTRIES
from cx_kit.settings import SignInSettings

# The lump sum of a physical exchange by host country, in euros, before any halving. The default follows the
# three cost-of-living groups the EU's mobility programmes use (Erasmus+ country groups): the scheme's own
# figures are configured with CX_EXCHANGES_GRANT_CAPS_EUR (a JSON object of country code to euros).
_HIGHER = "DK FI IS IE LI LU NO SE"
_MIDDLE = "AT BE CY DE ES FR GR IT MT NL PT"
_LOWER = "AL BA BG CZ EE HR HU LT LV MD ME MK PL RO RS SI SK TR UA XK"
DEFAULT_GRANT_CAPS_EUR: dict[str, int] = {
    **{country: 3000 for country in _HIGHER.split()},
    **{country: 2700 for country in _MIDDLE.split()},
    **{country: 2400 for country in _LOWER.split()},
}


def _json_object(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Settings(SignInSettings):
    """Everything the exchanges service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_EXCHANGES_", extra="ignore", frozen=True)

    service_name: str = "cx-exchanges"
    mongo_database: str = "exchanges"
    http_port: int = 8106

    catalogue_url: str = Field("http://127.0.0.1:8101", description="Catalogue service: host entries' facts, contacts.")
    applications_url: str = Field(
        "http://127.0.0.1:8102", description="Applications service: applications' facts and contacts."
    )
    records_timeout_s: float = Field(5.0, gt=0, le=60, description="Longest one look-up of a record may take.")
    grant_caps_eur: Annotated[dict[str, int], NoDecode, BeforeValidator(_json_object)] = Field(
        default_factory=lambda: dict(DEFAULT_GRANT_CAPS_EUR),
        description="The lump sum of a physical exchange by host country, in euros (JSON object); every eligible "
        "country needs one. Default: 3000 / 2700 / 2400 by the EU mobility programmes' cost-of-living groups.",
    )
    city_min_population: Literal[500, 1000, 5000, 15000] = Field(
        1000, description="The smallest towns located for the grant's distance (GeoNames data sets: 500 to 15000)."
    )
    booking_lease_s: float = Field(
        120.0, gt=0, description="How long a booking waits for its acceptance to be stored before it is free again."
    )
    clock_file: Path | None = Field(
        None,
        description="Development and tests only: a file naming the date the service takes as today (ISO 8601); "
        "absent or empty: the real date. Refused in production.",
    )

    @field_validator("grant_caps_eur")
    @classmethod
    def _a_cap_for_every_country(cls, caps: dict[str, int]) -> dict[str, int]:
        missing = sorted(ELIGIBLE_COUNTRIES - set(caps))
        if missing:
            raise ValueError(f"no lump sum for {', '.join(missing)}")
        if any(amount < 0 for amount in caps.values()):
            raise ValueError("a lump sum cannot be negative")
        return caps

    @property
    def grant_caps_cents(self) -> dict[str, int]:
        """The lump sums in euro cents."""
        return {country: amount * 100 for country, amount in self.grant_caps_eur.items()}

    @model_validator(mode="after")
    def _no_test_clock_in_production(self) -> Settings:
        if self.environment == "production" and self.clock_file is not None:
            raise ValueError("CX_EXCHANGES_CLOCK_FILE is for development and tests; production takes the real date")
        return self
