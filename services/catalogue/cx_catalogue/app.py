"""Composition root of the catalogue service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_contracts.events import HostAnswersSubmitted
from cx_contracts.topics import HOST_ANSWERS

from cx_kit.aggregate_http import install_handlers
from cx_kit.aggregates import prepare_store
from cx_kit.outbox import BrokerPublisher, OutboxRelay
from cx_kit.runtime import ServiceParts

from cx_catalogue import __version__
from cx_catalogue.adapters.hosts import HOSTS, HostRepository
from cx_catalogue.entrypoints.http import catalogue_router
from cx_catalogue.entrypoints.internal import contacts_router
from cx_catalogue.settings import Settings

TITLE = "ClusterXchange catalogue"
DESCRIPTION = (
    "Hosts publish, revise and withdraw their catalogue entry; anyone browses the public catalogue (no contact "
    "data). Every change is published on cx.catalogue.host-answers.v1 through the outbox."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the catalogue service: owns host profiles (the catalogue) and publishes their answers."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    relay = OutboxRelay(
        [parts.database[HOSTS]],
        BrokerPublisher(parts.broker),
        poll_interval_s=settings.outbox_poll_interval_s,
        lease_s=settings.outbox_lease_s,
    )
    hosts = HostRepository(parts.database, topic_namespace=settings.topic_namespace, after_write=relay.wake)
    # The relay publishes from the outbox; this declaration is what the AsyncAPI document shows of it.
    parts.broker.publisher(
        settings.topic(HOST_ANSWERS),
        schema=HostAnswersSubmitted,
        title=f"{settings.topic(HOST_ANSWERS)}:publish",
        description="A host's entry as it now is (organisation and full answers, never the contact), keyed by "
        "host_id, one record per revision. A withdrawn entry is a tombstone: a null value whose headers carry "
        "event_type=host-answers-withdrawn, revision and reason. Compacted: the latest record per host is its state.",
    )
    app = parts.http_app(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        routers=[catalogue_router(hosts), contacts_router(hosts, settings)],
        workers=[relay],
        on_startup=[lambda: prepare_store(hosts)],
    )
    install_handlers(app)
    app.state.parts = parts
    app.state.relay = relay
    app.state.hosts = hosts
    return app
