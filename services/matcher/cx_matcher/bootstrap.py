"""Builds the matcher's parts from its settings: the model, the host index, the policy, ranking, the publishers.

Every way of running the matcher builds them here: the service (app.py, its composition root), `cx-matcher
rank`, the evaluation and the benchmarks; the preview route and the host reader use what the service built.
Nothing connects when a part is built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from cx_contracts.topics import MATCH_FOUND

from cx_matcher.adapters.dead_letters import ReplicatedDeadLetters, VisitorDeadLetters
from cx_matcher.adapters.embedder import load_embedder_from
from cx_matcher.adapters.host_index import HostIndex
from cx_matcher.adapters.match_publisher import KafkaMatchPublisher
from cx_matcher.domain.ranker import Ranker
from cx_matcher.domain.ranking import MatchPolicy, today_utc
from cx_matcher.domain.runs import model_version
from cx_matcher.handlers import Embedder, Ranking
from cx_matcher.settings import Settings


def load_embedder(settings: Settings) -> Embedder:
    """The configured model, loaded now; raises ModelUnavailable (naming the path) when it cannot be."""
    return load_embedder_from(
        settings.model_path,
        name=settings.model_name,
        backend=settings.encoder_backend,
        threads=settings.encoder_threads,
        faiss_threads=settings.faiss_threads,
        cache_dir=settings.encoder_cache_dir,
    )


def host_index(settings: Settings, dimension: int) -> HostIndex:
    """An empty host index of the configured kind."""
    return HostIndex(
        dimension,
        kind=settings.index_kind,
        hnsw_m=settings.hnsw_m,
        ef_construction=settings.hnsw_ef_construction,
        ef_search=settings.hnsw_ef_search,
    )


def policy(settings: Settings) -> Callable[[date | None], MatchPolicy]:
    """How lists are made, counting dates from a given day, else the configured one, else today (UTC)."""

    def at(as_of: date | None = None) -> MatchPolicy:
        return MatchPolicy(weights=settings.weights, top_n=settings.top_n, as_of=as_of or settings.as_of or today_utc())

    return at


def ranking(settings: Settings, embedder: Embedder) -> Ranking:
    """An empty host index with the configured ranker, policy and model: what every way of ranking shares."""
    index = host_index(settings, embedder.dimension)
    return Ranking(
        index,
        embedder,
        ranker=Ranker(index, candidate_pool=settings.candidate_pool, max_candidate_pool=settings.max_candidate_pool),
        policy=policy(settings),
        model_version=model_version(settings.model_name, settings.weights.fingerprint(), settings.top_n),
    )


def match_publisher(broker: KafkaBroker, settings: Settings) -> KafkaMatchPublisher:
    """The MatchFound publisher on the configured topic."""
    return KafkaMatchPublisher(broker, settings.topic(MATCH_FOUND))


def visitor_dead_letters(broker: KafkaBroker, settings: Settings) -> VisitorDeadLetters:
    """Copies a bad visitor record to `<topic>.dlq`."""
    return VisitorDeadLetters(broker, settings.service_name)


def host_dead_letters(broker: KafkaBroker, database: AsyncDatabase, settings: Settings) -> ReplicatedDeadLetters:
    """Copies a bad host record to `<topic>.dlq` once, although every replica reads it (a marker in the store)."""
    return ReplicatedDeadLetters(broker, database["dead_lettered_hosts"], settings.service_name)


def exchange_dead_letters(broker: KafkaBroker, database: AsyncDatabase, settings: Settings) -> ReplicatedDeadLetters:
    """Copies a bad exchange record to `<topic>.dlq` once, although every replica reads it."""
    return ReplicatedDeadLetters(broker, database["dead_lettered_exchanges"], settings.service_name)
