"""Composition root of the web pages: settings -> API client and issuer -> page routes -> the HTTP app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from starlette.middleware.sessions import SessionMiddleware

from cx_contracts.vocabulary import PARTNERSHIPS
from cx_kit.http import build_http_app

from cx_web import __version__
from cx_web.adapters.issuer import OpenIdIssuer
from cx_web.adapters.platform_api import HttpPlatformApi
from cx_web.domain.questionnaire_form import host_questionnaire, visitor_questionnaire
from cx_web.domain.records import application_page, host_page
from cx_web.entrypoints.application_pages import application_router
from cx_web.entrypoints.catalogue_pages import catalogue_router
from cx_web.entrypoints.errors import install_page_errors
from cx_web.entrypoints.exchange_pages import exchange_router
from cx_web.entrypoints.record_pages import RecordPages, record_router
from cx_web.entrypoints.rendering import STATIC_DIR
from cx_web.entrypoints.session import SESSION_COOKIE
from cx_web.entrypoints.sign_in import sign_in_router
from cx_web.handlers import APPLICATIONS, HOST_ENTRIES
from cx_web.settings import Settings

TITLE = "ClusterXchange web pages"


def record_pages(partnerships: dict[str, str]) -> tuple[RecordPages, RecordPages]:
    """How host entries and applications read on the pages."""
    entries = RecordPages(
        records=HOST_ENTRIES,
        questionnaire=host_questionnaire(partnerships),
        prefix="/entries",
        noun="host entry",
        plural="Host entries",
        create_heading="Publish your host entry",
        created_message="Your entry is published in the catalogue.",
        record_page=host_page,
    )
    applications = RecordPages(
        records=APPLICATIONS,
        questionnaire=visitor_questionnaire(partnerships),
        prefix="/applications",
        noun="application",
        plural="Applications",
        create_heading="Apply for an exchange",
        created_message="Your application is in. The matcher is looking for hosts; they appear below.",
        record_page=application_page,
    )
    return entries, applications


def create_app(settings: Settings | None = None, api: HttpPlatformApi | None = None) -> FastAPI:
    """Build the web pages: they call the services' public API as the signed-in person."""
    settings = settings or Settings()
    api = api or HttpPlatformApi(
        catalogue_url=settings.catalogue_url,
        applications_url=settings.applications_url,
        exchanges_url=settings.exchanges_url,
        timeout_s=settings.api_timeout_s,
    )
    issuer = OpenIdIssuer(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        scope=settings.oidc_scope,
        audience=settings.oidc_audience,
        discovery_url=settings.oidc_discovery_url,
    )
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        await api.close()

    app = build_http_app(
        title=TITLE,
        version=__version__,
        description="Server-rendered pages of the platform (not an API: no OpenAPI document is published).",
        registry=registry,
        # Not the exchanges service: its pages answer "try again shortly" while it is down, and the catalogue,
        # the questionnaires and the matches stay served.
        readiness={
            "catalogue": lambda: api.reachable("catalogue"),
            "applications": lambda: api.reachable("applications"),
        },
        max_request_bytes=settings.max_request_bytes,
        lifespan=lifespan,
    )
    install_page_errors(app)
    entries, applications = record_pages(dict(PARTNERSHIPS))
    app.include_router(sign_in_router(issuer, settings.public_url))
    app.include_router(catalogue_router(api))
    app.include_router(record_router(api, entries))
    app.include_router(record_router(api, applications))
    app.include_router(application_router(api, settings.refresh_interval_s))
    app.include_router(exchange_router(api))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookies_need_https,
    )
    return app
