"""Composition root of the matcher service: settings -> parts (bootstrap.py) -> handlers -> entrypoints -> app."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from cx_kit.runtime import ServiceParts

from cx_matcher import __version__, bootstrap
from cx_matcher.adapters.match_publisher import KafkaMatchPublisher
from cx_matcher.adapters.metrics import MatcherMetrics
from cx_matcher.adapters.open_applications import MongoApplicationStore
from cx_matcher.adapters.snapshots import SnapshotStore
from cx_matcher.domain.applications import OpenApplications
from cx_matcher.entrypoints.exchange_reader import ExchangeTopicReader
from cx_matcher.entrypoints.host_reader import HostTopicReader
from cx_matcher.entrypoints.http import http_router
from cx_matcher.entrypoints.visitor_subscriber import VisitorSubscriber
from cx_matcher.handlers import Embedder, Matching
from cx_matcher.settings import Settings

DESCRIPTION = (
    "Matches visitors to hosts: hard rules first, then a blend of semantic similarity (sentence-transformers, "
    "FAISS) and the overlap of the structured answers, with an explanation of each criterion's part."
)


@dataclass
class Matcher:
    """The assembled service, kept on `app.state.matcher` for tests and operators."""

    settings: Settings
    embedder: Embedder
    parts: ServiceParts
    store: MongoApplicationStore
    publisher: KafkaMatchPublisher
    matching: Matching
    reader: HostTopicReader
    visitors: VisitorSubscriber
    exchanges: ExchangeTopicReader


def build_matcher(settings: Settings, embedder: Embedder) -> Matcher:
    """Wire the matcher's parts; nothing connects until the app's lifespan starts."""
    parts = ServiceParts(settings)
    store = MongoApplicationStore(parts.database["open_applications"])
    publisher = bootstrap.match_publisher(parts.broker, settings)
    matching = Matching(
        bootstrap.ranking(settings, embedder),
        applications=OpenApplications(embedder.dimension),
        store=store,
        publisher=publisher,
        metrics=MatcherMetrics(parts.registry),
    )
    reader = HostTopicReader(
        settings,
        matching,
        broker=parts.broker,
        dead_letter=bootstrap.host_dead_letters(parts.broker, parts.database, settings).send,
        snapshots=None
        if settings.snapshot_dir is None
        else SnapshotStore(settings.snapshot_dir, settings.snapshot_keep),
    )
    visitors = VisitorSubscriber(
        parts.broker, settings, matching, dead_letter=bootstrap.visitor_dead_letters(parts.broker, settings).send
    )
    exchanges = ExchangeTopicReader(
        settings,
        matching,
        broker=parts.broker,
        dead_letter=bootstrap.exchange_dead_letters(parts.broker, parts.database, settings).send,
    )
    return Matcher(settings, embedder, parts, store, publisher, matching, reader, visitors, exchanges)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the matcher service. The model is loaded here unless given: a missing model stops start-up."""
    settings = settings or Settings()
    embedder = embedder or bootstrap.load_embedder(settings)
    matcher = build_matcher(settings, embedder)
    app: FastAPI = matcher.parts.http_app(
        title="ClusterXchange matcher",
        version=__version__,
        description=DESCRIPTION,
        routers=[
            http_router(settings, embedder, matcher.matching, matcher.reader, matcher.visitors, matcher.exchanges)
        ],
        workers=[matcher.reader, matcher.exchanges],
        # The host and exchange topics are read to their end before the broker starts the visitor subscriber
        # (readiness gate): no list is made against a half-loaded catalogue or without the bookings.
        on_startup=[matcher.store.ensure_indexes, matcher.exchanges.catch_up, matcher.reader.catch_up],
    )
    app.state.matcher = matcher
    return app
