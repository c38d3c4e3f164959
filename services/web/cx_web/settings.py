"""Settings of the web pages (environment variables prefixed CX_WEB_)."""

from __future__ import annotations

import warnings

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from cx_kit.settings import PLACEHOLDER_SECRET, ServiceSettings

DEVELOPMENT_ISSUER = "http://127.0.0.1:8090"


class Settings(ServiceSettings):
    """Everything the web service reads from its environment.

    The pages hold no store and no broker: they call the public API of the services with the signed-in
    person's token, so of the shared settings only the HTTP, logging and environment ones apply.
    """

    model_config = SettingsConfigDict(env_prefix="CX_WEB_", extra="ignore", frozen=True)

    service_name: str = "cx-web"
    http_port: int = 8105

    public_url: str = Field(
        "http://127.0.0.1:8080",
        description="Where people reach the pages (the gateway); sign-in's redirect URI is built from it.",
    )
    catalogue_url: str = Field("http://127.0.0.1:8101", description="The catalogue service's public API.")
    applications_url: str = Field("http://127.0.0.1:8102", description="The applications service's public API.")
    exchanges_url: str = Field("http://127.0.0.1:8106", description="The exchanges service's public API.")
    api_timeout_s: float = Field(10.0, gt=0, le=60, description="Longest one call to a service may take.")

    oidc_issuer: str = Field(
        DEVELOPMENT_ISSUER,
        description="The OpenID provider people sign in with: EU Login in production, Keycloak in docker-compose, "
        "the development issuer locally. Its discovery document is <issuer>/.well-known/openid-configuration.",
    )
    oidc_discovery_url: str | None = Field(
        None,
        description="Where the pages read the issuer's discovery document when they reach it at another address "
        "than the browser does (docker-compose: Keycloak on the compose network); default: from the issuer.",
    )
    oidc_client_id: str = Field("cx-web", min_length=1, description="The pages' client id at the issuer.")
    oidc_audience: str = Field("clusterxchange", description="The audience the services accept in access tokens.")
    oidc_scope: str = Field("openid profile email", description="Scopes asked for at sign-in.")

    session_secret: SecretStr = Field(
        SecretStr(PLACEHOLDER_SECRET),
        description="Signs the session cookie (the signed-in person's token lives in it): a long random secret.",
    )
    session_max_age_s: int = Field(8 * 3600, ge=60, description="A session ends after this long at the latest.")
    secure_cookies: bool | None = Field(
        None, description="Send the session cookie over HTTPS only; default: in production (served over HTTPS)."
    )
    refresh_interval_s: int = Field(
        5, ge=1, le=300, description="How often an application's page asks whether new matches arrived."
    )

    @property
    def cookies_need_https(self) -> bool:
        """Whether the session cookie is marked Secure."""
        return self.environment == "production" if self.secure_cookies is None else self.secure_cookies

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        # Overrides the shared check: the pages hold no internal token (they never call /internal), but a
        # session secret anyone can read would let anyone forge a signed-in session.
        if self.session_secret.get_secret_value() == PLACEHOLDER_SECRET:
            message = f"CX_WEB_SESSION_SECRET is the placeholder {PLACEHOLDER_SECRET!r}; set a real secret"
            if self.environment == "production":
                raise ValueError(message)
            if self.environment == "development":
                warnings.warn(message, stacklevel=2)
        if self.environment == "production" and self.oidc_issuer == DEVELOPMENT_ISSUER:
            raise ValueError("CX_WEB_OIDC_ISSUER is the development issuer; production signs in with EU Login")
        return self
