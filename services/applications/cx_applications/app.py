"""Composition root of the applications service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_contracts.events import MatchFound, VisitorAnswersSubmitted
from cx_kit.aggregate_service import OwnedAggregateService

from cx_applications import __version__
from cx_applications.adapters.applications import ApplicationRepository
from cx_applications.adapters.matches import LatestMatchesRepository
from cx_applications.entrypoints.http import APPLICATIONS, matches_router
from cx_applications.entrypoints.match_found import subscribe_match_found
from cx_applications.handlers import keep_latest_run
from cx_applications.settings import Settings

TITLE = "ClusterXchange applications"
DESCRIPTION = (
    "Visitors submit, revise and withdraw their application and read its latest matches. Every change is "
    "published on cx.applications.visitor-answers.v1 through the outbox; matches come from cx.matcher.match-found.v1."
)
ANNOUNCEMENT = (
    "An application as it now is (organisation and full answers, never the contact), keyed by application_id, one "
    "record per revision. A withdrawn application is a tombstone: a null value whose headers carry "
    "event_type=visitor-answers-withdrawn, revision and reason. Compacted: the latest record per application is "
    "its state."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the applications service: owns visitor applications, publishes their answers, keeps their matches."""
    settings = settings or Settings()
    service = OwnedAggregateService(
        settings, APPLICATIONS, ApplicationRepository, announces=VisitorAnswersSubmitted, announcement=ANNOUNCEMENT
    )
    applications = service.repository
    matches = LatestMatchesRepository(service.parts.database)

    async def on_run(run: MatchFound) -> bool:
        return await keep_latest_run(run, applications, matches)

    subscribe_match_found(service.parts.broker, settings, on_run)
    app = service.http_app(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        routers=[matches_router(applications, matches, service.ownership)],
    )
    app.state.matches = matches
    return app
