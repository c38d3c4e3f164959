"""Composition root of the matcher service: settings -> model -> index -> broker, subscribers and HTTP app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import FastAPI

from cx_contracts.topics import VISITOR_ANSWERS
from cx_kit.kafka import publish_dead_letter
from cx_kit.runtime import ServiceParts

from cx_matcher import __version__
from cx_matcher.adapters.dead_letters import HostDeadLetters
from cx_matcher.adapters.embedder import Embedder, load_embedder_from
from cx_matcher.adapters.host_index import HostIndex
from cx_matcher.adapters.match_publisher import register_match_publisher
from cx_matcher.adapters.metrics import MatcherMetrics
from cx_matcher.adapters.open_applications import ApplicationStore, OpenApplications
from cx_matcher.adapters.snapshots import SnapshotStore
from cx_matcher.domain.runs import model_version
from cx_matcher.entrypoints.host_reader import HostTopicReader
from cx_matcher.entrypoints.http import http_router
from cx_matcher.entrypoints.visitor_subscriber import VisitorPartitions, register_visitor_subscriber
from cx_matcher.service import LiveMatching, Ranker, today_utc
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
    matching: LiveMatching
    reader: HostTopicReader
    visitor_subscriber: Any
    publisher: Any


def load_embedder(settings: Settings) -> Embedder:
    """The configured model, loaded now; raises ModelUnavailable (naming the path) when it cannot be."""
    return load_embedder_from(settings.model_path, name=settings.model_name, backend=settings.encoder_backend,
                              threads=settings.encoder_threads, faiss_threads=settings.faiss_threads,
                              cache_dir=settings.encoder_cache_dir)


def build_matcher(settings: Settings, embedder: Embedder) -> Matcher:
    """Wire the matcher's parts; nothing connects until the app's lifespan starts."""
    parts = ServiceParts(settings)
    index = HostIndex(embedder.dimension, kind=settings.index_kind, hnsw_m=settings.hnsw_m,
                      ef_construction=settings.hnsw_ef_construction, ef_search=settings.hnsw_ef_search)
    ranker = Ranker(index, candidate_pool=settings.candidate_pool, max_candidate_pool=settings.max_candidate_pool)
    publish, publisher = register_match_publisher(parts.broker, settings)
    matching = LiveMatching(
        embedder=embedder,
        ranker=ranker,
        applications=OpenApplications(embedder.dimension),
        store=ApplicationStore(parts.database["open_applications"]),
        publish=publish,
        policy=lambda: settings.policy(as_of=today_utc()),
        model_version=model_version(settings.model_name, settings.weights.fingerprint(), settings.top_n),
        metrics=MatcherMetrics(parts.registry),
    )
    reader = HostTopicReader(
        settings, matching, broker=parts.broker,
        dead_letters=HostDeadLetters(parts.broker, parts.database["dead_lettered_hosts"], settings.service_name),
        snapshots=None if settings.snapshot_dir is None else SnapshotStore(settings.snapshot_dir,
                                                                           settings.snapshot_keep),
    )
    visitor_dead_letter = partial(_dead_letter, parts, settings.service_name)
    visitor_subscriber = register_visitor_subscriber(
        parts.broker, settings,
        handle=lambda records: matching.handle_visitor_records(records, visitor_dead_letter),
        listener=VisitorPartitions(matching, settings.topic(VISITOR_ANSWERS)),
    )
    return Matcher(settings, embedder, parts, matching, reader, visitor_subscriber, publisher)


async def _dead_letter(parts: ServiceParts, service: str, record: Any, error: BaseException) -> bool:
    await publish_dead_letter(parts.broker, record, error, attempts=1, service=service)
    return True


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the matcher service. The model is loaded here unless given: a missing model stops start-up."""
    settings = settings or Settings()
    embedder = embedder or load_embedder(settings)
    matcher = build_matcher(settings, embedder)
    store = matcher.matching.store
    app = matcher.parts.http_app(
        title="ClusterXchange matcher",
        version=__version__,
        description=DESCRIPTION,
        routers=[http_router(settings, embedder, matcher.matching, matcher.reader, matcher.visitor_subscriber)],
        workers=[matcher.reader],
        # The host topic is read to its end before the broker starts the visitor subscriber (readiness gate).
        on_startup=[store.ensure_indexes, matcher.reader.catch_up],
    )
    app.state.matcher = matcher
    return app
