"""HTTP: POST /api/matcher/preview (answers in, ranked hosts out; nothing stored or published) and
GET /api/matcher/status (index size, model, lag, snapshots)."""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from cx_contracts.events import MAX_MATCHES, HostMatch
from cx_contracts.questionnaire import Organisation, VisitorAnswers
from cx_kit.aggregate_http import BODY_PROBLEMS, PROBLEM_RESPONSE, problem_error

from cx_matcher.domain.ranking import today_utc
from cx_matcher.entrypoints.exchange_reader import ExchangeTopicReader
from cx_matcher.entrypoints.host_reader import HostTopicReader
from cx_matcher.entrypoints.visitor_subscriber import VisitorSubscriber
from cx_matcher.handlers import Embedder, Matching
from cx_matcher.settings import Settings


class PreviewRequest(BaseModel):
    """Body of POST /api/matcher/preview: a visitor's organisation and answers, as in an application."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    organisation: Organisation = Field(
        description="The visiting organisation (its country decides which hosts are transnational)."
    )
    answers: VisitorAnswers = Field(
        description="The visitor questionnaire; goals are capped at 4000 characters "
        "and the model reads the first 256 word pieces."
    )
    top: int = Field(
        10,
        ge=1,
        le=MAX_MATCHES,
        description="How many hosts to return (at most the service's preview_max_top, 50 by default).",
    )


class PreviewResponse(BaseModel):
    """The hosts the matcher would propose for these answers now."""

    model_version: str = Field(description="Embedding model and scoring configuration used.")
    as_of: str = Field(description="The day from which availability was counted (ISO 8601).")
    hosts_in_index: int = Field(description="Hosts in the catalogue index when the preview ran.")
    matches: list[HostMatch] = Field(description="Ranked hosts, best first, with score and explanation.")


class ModelStatus(BaseModel):
    """The embedding model loaded."""

    name: str
    backend: str | None
    path: str | None = Field(description="The model file's or folder's name (never where it lies on the server).")
    dimension: int
    max_tokens: int | None
    texts_encoded: int | None


class IndexStatus(BaseModel):
    """The host index."""

    kind: str
    hosts: int
    dead_entries: int = Field(description="Vectors of replaced or withdrawn hosts still in an HNSW graph.")


class TopicStatus(BaseModel):
    """How far this replica has read a topic."""

    topic: str
    partitions: list[int]
    lag: int = Field(description="Records on the topic not yet processed by this replica (its partitions).")


class SnapshotStatus(BaseModel):
    """Snapshots of the host index."""

    directory: str | None = Field(description="The snapshot folder's name (not its place on the server).")
    restored_from: str | None = Field(description="The file name of the snapshot restored at start-up.")
    restored_hosts: int
    restore_seconds: float | None
    last_written: str | None = Field(description="The file name of the last snapshot written.")
    last_written_at: str | None
    last_written_hosts: int | None
    failures: int


class MatcherStatus(BaseModel):
    """GET /api/matcher/status."""

    ready: bool = Field(description="The host and exchange topics were read to their end at start-up.")
    model: ModelStatus
    model_version: str
    weights: dict[str, float]
    top_n: int
    index: IndexStatus
    host_topic: TopicStatus
    visitor_topic: TopicStatus
    exchange_topic: TopicStatus
    bookings: int = Field(description="Accepted or agreed exchanges holding their hosts' capacity.")
    open_applications: int = Field(description="Open applications of the partitions this replica owns.")
    runs: dict[str, Any] = Field(description="Counters: visitor runs, host (new-host) runs, dead-lettered records.")
    catch_up_seconds: float | None
    snapshots: SnapshotStatus


def _name(path: object) -> str | None:
    # A file's or folder's name, never where it lies on the server: the status route is readable by anyone
    # who reaches the service, and a server path tells an attacker about the host (the logs have the paths).
    return None if path is None else PurePath(str(path)).name


def http_router(
    settings: Settings,
    embedder: Embedder,
    matching: Matching,
    reader: HostTopicReader,
    visitors: VisitorSubscriber,
    exchanges: ExchangeTopicReader,
) -> APIRouter:
    """The matcher's public routes, mounted under /api/matcher."""
    router = APIRouter(prefix="/api/matcher", tags=["matcher"])
    ranking = matching.ranking
    busy = asyncio.Semaphore(settings.preview_concurrency)

    @router.post(
        "/preview",
        response_model=PreviewResponse,
        summary="Rank hosts for answers, storing nothing",
        responses={
            **BODY_PROBLEMS,
            429: {"description": "Too many previews at once; try again after Retry-After.", **PROBLEM_RESPONSE},
        },
    )
    async def preview(request: PreviewRequest) -> PreviewResponse:
        if request.top > settings.preview_max_top:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "top"),
                        "type": "less_than_equal",
                        "input": request.top,
                        "msg": f"Input should be less than or equal to {settings.preview_max_top}",
                    }
                ]
            )
        if busy.locked():
            # Previews wait for nothing: a caller over the limit is told to come back (the gateway limits rates).
            raise problem_error(429, "Too many previews at once; try again in a moment.", headers={"Retry-After": "1"})
        policy = ranking.policy()
        async with busy:
            (ranked,) = await matching.preview([request], limit=request.top, policy=policy)
        return PreviewResponse(
            model_version=ranking.model_version,
            as_of=(policy.as_of or today_utc()).isoformat(),
            hosts_in_index=len(ranking.index),
            matches=[
                HostMatch(host_id=e.host_id, rank=e.rank, score=e.score, explanation=e.explanation) for e in ranked
            ],
        )

    @router.get("/status", response_model=MatcherStatus, summary="Index size, model, lag and snapshots")
    async def status() -> MatcherStatus:
        index = ranking.index
        visitor_partitions, visitor_lag = await visitors.progress()
        snapshot = reader.status.last_snapshot
        return MatcherStatus(
            ready=reader.status.ready and exchanges.status.ready,
            model=ModelStatus(
                name=embedder.name,
                backend=embedder.backend,
                path=_name(embedder.path),
                dimension=embedder.dimension,
                max_tokens=embedder.max_tokens,
                texts_encoded=embedder.texts_encoded,
            ),
            model_version=ranking.model_version,
            weights=settings.weights.as_dict(),
            top_n=settings.top_n,
            index=IndexStatus(kind=index.kind, hosts=len(index), dead_entries=index.dead_entries),
            host_topic=TopicStatus(
                topic=reader.topic, partitions=sorted(reader.status.end_offsets), lag=reader.status.lag
            ),
            visitor_topic=TopicStatus(topic=visitors.topic, partitions=visitor_partitions, lag=visitor_lag),
            exchange_topic=TopicStatus(
                topic=exchanges.topic, partitions=sorted(exchanges.status.end_offsets), lag=exchanges.status.lag
            ),
            bookings=len(matching.bookings),
            open_applications=len(matching.applications),
            runs={
                "visitor": matching.stats.visitor_runs,
                "visitor_batches": matching.stats.visitor_batches,
                "new_host": matching.stats.host_runs,
                "skipped_redelivered": matching.stats.visitor_records_skipped,
                "dead_lettered": visitors.decoder.dead_lettered
                + reader.decoder.dead_lettered
                + exchanges.decoder.dead_lettered,
                "last_run_at": matching.stats.last_run_at,
            },
            catch_up_seconds=reader.status.catch_up_seconds,
            snapshots=SnapshotStatus(
                directory=_name(settings.snapshot_dir),
                restored_from=_name(reader.status.restored_from),
                restored_hosts=reader.status.restored_hosts,
                restore_seconds=reader.status.restore_seconds,
                last_written=None if snapshot is None else _name(snapshot.path),
                last_written_at=None if snapshot is None else snapshot.created_at,
                last_written_hosts=None if snapshot is None else snapshot.hosts,
                failures=reader.status.snapshot_failures,
            ),
        )

    return router
