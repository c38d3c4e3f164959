"""Composition root of the catalogue service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_contracts.events import HostAnswersSubmitted
from cx_kit.aggregate_service import OwnedAggregateService

from cx_catalogue import __version__
from cx_catalogue.adapters.hosts import HostRepository
from cx_catalogue.entrypoints.http import HOST_ENTRIES, catalogue_router
from cx_catalogue.settings import Settings

TITLE = "ClusterXchange catalogue"
DESCRIPTION = (
    "Hosts publish, revise and withdraw their catalogue entry; anyone browses the public catalogue (no contact "
    "data). Every change is published on cx.catalogue.host-answers.v1 through the outbox."
)
ANNOUNCEMENT = (
    "A host's entry as it now is (organisation and full answers, never the contact), keyed by host_id, one record "
    "per revision. A withdrawn entry is a tombstone: a null value whose headers carry "
    "event_type=host-answers-withdrawn, revision and reason. Compacted: the latest record per host is its state."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the catalogue service: owns host profiles (the catalogue) and publishes their answers."""
    service = OwnedAggregateService(
        settings or Settings(), HOST_ENTRIES, HostRepository, announces=HostAnswersSubmitted, announcement=ANNOUNCEMENT
    )
    return service.http_app(
        title=TITLE, version=__version__, description=DESCRIPTION, routers=[catalogue_router(service.repository)]
    )
