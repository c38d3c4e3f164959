"""The web pages' settings: no forgeable sessions and no development sign-in in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cx_web.settings import Settings

pytestmark = pytest.mark.unit
ISSUER = "https://eu-login.example.eu"


def test_production_refuses_the_placeholder_session_secret() -> None:
    with pytest.raises(ValidationError, match="CX_WEB_SESSION_SECRET"):
        Settings(environment="production", oidc_issuer=ISSUER)


def test_production_refuses_the_development_issuer() -> None:
    with pytest.raises(ValidationError, match="development issuer"):
        Settings(environment="production", session_secret="s" * 40)


def test_the_session_cookie_is_secure_in_production_unless_told_otherwise() -> None:
    production = Settings(environment="production", session_secret="s" * 40, oidc_issuer=ISSUER)
    assert production.cookies_need_https
    assert not Settings(environment="test").cookies_need_https
    assert not Settings(
        environment="production", session_secret="s" * 40, oidc_issuer=ISSUER, secure_cookies=False
    ).cookies_need_https


def test_the_pages_need_no_internal_token_even_in_production() -> None:
    settings = Settings(environment="production", session_secret="s" * 40, oidc_issuer=ISSUER)
    assert settings.http_port == 8105
