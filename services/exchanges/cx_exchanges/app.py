"""Composition root of the exchanges service: settings -> clients -> adapters -> handlers -> broker and HTTP app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from cx_contracts.events import EXCHANGE_STEPS
from cx_contracts.topics import EXCHANGE_EVENTS
from cx_kit.aggregate_http import install_handlers
from cx_kit.internal_records import InternalRecords
from cx_kit.mongo import mongo_reachable
from cx_kit.outbox import BrokerPublisher, OutboxRelay
from cx_kit.ownership import Ownership
from cx_kit.runtime import ServiceParts

from cx_exchanges import __version__
from cx_exchanges.adapters.cities import GeoNamesDistances
from cx_exchanges.adapters.clock import FileClock, SystemClock
from cx_exchanges.adapters.exchanges import ExchangeRepository
from cx_exchanges.adapters.ledgers import HOST_BOOKINGS, VISITOR_BOOKINGS, BookingLedger
from cx_exchanges.adapters.proposals import ProposalRepository
from cx_exchanges.entrypoints.http import exchanges_router
from cx_exchanges.entrypoints.match_found import subscribe_match_found
from cx_exchanges.handlers import Clock, Exchanges, Rules
from cx_exchanges.settings import Settings

TITLE = "ClusterXchange exchanges"
DESCRIPTION = (
    "From a proposed host to a completed exchange: a visitor asks a host the matcher proposed, the host accepts "
    "or declines (double opt-in), both partnerships confirm the Commitment to Quality (the grant is computed), "
    "the visitor files the closing report. Every step is published on cx.exchanges.exchange-events.v1 through the "
    "outbox; the proposed hosts come from cx.matcher.match-found.v1."
)
ANNOUNCEMENT = (
    "Every step of an exchange (exchange-requested, -accepted, -declined, -withdrawn, -agreed, -completed; the "
    "event_type header and field say which), keyed by exchange_id, in order per exchange. Each carries the "
    "exchange's state after the step: application_id, host_id, both partnerships, format, dates, working days, "
    "participants and, from the agreement on, the grant; never a contact or the texts the two sides wrote. "
    "Compacted after a week: the latest record per exchange is its state (an accepted or agreed exchange takes "
    "its participants of the host's capacity on its days; a withdrawn one frees them)."
)


class _ClosingRecords:
    # The record client's connections close with the service.
    def __init__(self, records: InternalRecords) -> None:
        self._records = records

    async def start(self) -> None:
        """Nothing to open: connections are made on first use."""

    async def stop(self) -> None:
        """Close the pooled connections."""
        await self._records.close()


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the exchanges service; `clock` replaces the date rules' today (tests)."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    database = parts.database
    relay: OutboxRelay
    store = ExchangeRepository(database, topic_namespace=settings.topic_namespace, after_write=lambda: relay.wake())
    relay = OutboxRelay(
        [store.collection],
        BrokerPublisher(parts.broker),
        poll_interval_s=settings.outbox_poll_interval_s,
        lease_s=settings.outbox_lease_s,
    )
    records = InternalRecords(
        catalogue_url=settings.catalogue_url,
        applications_url=settings.applications_url,
        token=settings.internal_token,
        timeout_s=settings.records_timeout_s,
    )
    distances = GeoNamesDistances(min_population=settings.city_min_population)
    proposals = ProposalRepository(database)
    exchanges = Exchanges(
        store,
        hosts=BookingLedger(database, HOST_BOOKINGS),
        visitors=BookingLedger(database, VISITOR_BOOKINGS),
        proposals=proposals,
        records=records,
        distances=distances,
        clock=clock or (FileClock(settings.clock_file) if settings.clock_file else SystemClock()),
        rules=Rules(caps_cents=settings.grant_caps_cents, booking_lease=timedelta(seconds=settings.booking_lease_s)),
    )
    subscribe_match_found(parts.broker, settings, exchanges)
    # The relay publishes from the outbox; these declarations are what the AsyncAPI document shows of the topic:
    # one message per step, all on the one topic.
    topic = settings.topic(EXCHANGE_EVENTS)
    for step in EXCHANGE_STEPS:
        description = f"{step.__doc__} {ANNOUNCEMENT}"
        parts.broker.publisher(topic, schema=step, title=f"{topic}:{step.EVENT_TYPE}", description=description)

    async def prepare_store() -> None:
        if await mongo_reachable(parts.mongo):
            await store.ensure_indexes()

    app: FastAPI = parts.http_app(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        routers=[exchanges_router(exchanges, Ownership.of(settings))],
        workers=[relay, distances, _ClosingRecords(records)],
        on_startup=[prepare_store],
    )
    install_handlers(app)
    app.state.relay = relay
    app.state.store = store
    app.state.exchanges = exchanges
    app.state.proposals = proposals
    return app
