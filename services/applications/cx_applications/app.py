"""Composition root of the applications service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_contracts.events import VisitorAnswersSubmitted
from cx_contracts.topics import VISITOR_ANSWERS

from cx_kit.aggregate_http import install_handlers
from cx_kit.aggregates import prepare_store
from cx_kit.outbox import BrokerPublisher, OutboxRelay
from cx_kit.runtime import ServiceParts

from cx_applications import __version__
from cx_applications.adapters.applications import APPLICATIONS, ApplicationRepository
from cx_applications.adapters.matches import LatestMatchesRepository
from cx_applications.entrypoints.http import applications_router
from cx_applications.entrypoints.internal import contacts_router
from cx_applications.entrypoints.match_found import subscribe_match_found
from cx_applications.settings import Settings

TITLE = "ClusterXchange applications"
DESCRIPTION = (
    "Visitors submit, revise and withdraw their application and read its latest matches. Every change is "
    "published on cx.applications.visitor-answers.v1 through the outbox; matches come from cx.matcher.match-found.v1."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the applications service: owns visitor applications, publishes their answers, keeps their matches."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    relay = OutboxRelay(
        [parts.database[APPLICATIONS]],
        BrokerPublisher(parts.broker),
        poll_interval_s=settings.outbox_poll_interval_s,
        lease_s=settings.outbox_lease_s,
    )
    applications = ApplicationRepository(parts.database, topic_namespace=settings.topic_namespace,
                                         after_write=relay.wake)
    matches = LatestMatchesRepository(parts.database)
    # The relay publishes from the outbox; this declaration is what the AsyncAPI document shows of it.
    parts.broker.publisher(
        settings.topic(VISITOR_ANSWERS),
        schema=VisitorAnswersSubmitted,
        title=f"{settings.topic(VISITOR_ANSWERS)}:publish",
        description="An application as it now is (organisation and full answers, never the contact), keyed by "
        "application_id, one record per revision. A withdrawn application is a tombstone: a null value whose "
        "headers carry event_type=visitor-answers-withdrawn, revision and reason. Compacted: the latest record "
        "per application is its state.",
    )
    subscribe_match_found(parts.broker, settings, applications, matches)
    app = parts.http_app(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        routers=[applications_router(applications, matches), contacts_router(applications, settings)],
        workers=[relay],
        on_startup=[lambda: prepare_store(applications)],
    )
    install_handlers(app)
    app.state.parts = parts
    app.state.relay = relay
    app.state.applications = applications
    app.state.matches = matches
    return app
