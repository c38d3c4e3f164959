"""The matcher's use cases: rank an application; answer visitor records; apply host records and re-match.

`Ranker.rank` is the one ranking path: the live service, `POST /api/matcher/preview` and `cx-matcher rank`
all go through it. `LiveMatching` adds what only the running service does: it consumes records, publishes
MatchFound, and keeps the open applications of its partitions for re-matching.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import numpy as np
from aiokafka import ConsumerRecord

from cx_contracts.errors import ContractError
from cx_contracts.events import (
    HostAnswersSubmitted,
    HostAnswersWithdrawn,
    MatchFound,
    VisitorAnswersSubmitted,
    VisitorAnswersWithdrawn,
    child_traceparent,
    parse_event,
    read_event_headers,
)

from cx_matcher.adapters.embedder import Embedder
from cx_matcher.adapters.host_index import HostChange, HostIndex
from cx_matcher.adapters.metrics import MatcherMetrics
from cx_matcher.adapters.open_applications import ApplicationStore, OpenApplication, OpenApplications
from cx_matcher.domain.profiles import HostProfile, VisitorProfile, answer_masks, host_text, visitor_text
from cx_matcher.domain.ranking import SCORE_SLACK, MatchPolicy, RankedHost, entered, rank_hosts, would_enter
from cx_matcher.domain.rules import fits, may_fit
from cx_matcher.domain.runs import application_run_id, application_trigger, host_run_id, match_found
from cx_matcher.domain.scoring import score, score_bound, structured_bounds

logger = logging.getLogger(__name__)

Publish = Callable[[MatchFound, str | None], Awaitable[None]]
DeadLetter = Callable[[ConsumerRecord, BaseException], Awaitable[Any]]


class Ranker:
    """Ranks hosts of the index for a visitor: the hosts closest by similarity, scored and filtered.

    It scores the `candidate_pool` closest hosts first. If a host outside the pool (so at most as similar as
    the pool's last) could still enter the list, because the list is short or because its answers could make
    up for the lower similarity, exactly those hosts are found from the index's answer columns and scored with
    the pool. Only when they are more than a pool's worth does the pool grow instead (x4 a step, up to
    `max_candidate_pool`). Up to that cap the list equals an exhaustive ranking of the whole index
    (docs/benchmarks.md compares them). A batch of visitors shares one index search (`rank_many`).
    """

    def __init__(self, index: HostIndex, *, candidate_pool: int = 500, max_candidate_pool: int = 5000) -> None:
        self.index = index
        self.candidate_pool = candidate_pool
        self.max_candidate_pool = max(max_candidate_pool, candidate_pool)

    def rank(self, visitor: VisitorProfile, vector: np.ndarray, policy: MatchPolicy, *,
             limit: int | None = None) -> list[RankedHost]:
        """The visitor's list: best first, at most `limit` (default policy.top_n) hosts, none breaking a rule."""
        return self.rank_many([visitor], np.asarray(vector).reshape(1, -1), policy, limit=limit)[0]

    def rank_many(self, visitors: Sequence[VisitorProfile], vectors: np.ndarray, policy: MatchPolicy, *,
                  limit: int | None = None) -> list[list[RankedHost]]:
        """`rank` for each visitor (row of `vectors`), with one index search for all their first pools."""
        limit = policy.top_n if limit is None else limit
        pool = min(max(self.candidate_pool, limit), len(self.index))
        firsts = self.index.search_ids_many(vectors, pool)
        return [self._rank(visitor, vector, policy, limit, pool, first)
                for visitor, vector, first in zip(visitors, vectors, firsts, strict=True)]

    def _rank(self, visitor: VisitorProfile, vector: np.ndarray, policy: MatchPolicy, limit: int, pool: int,
              found: tuple[np.ndarray, np.ndarray]) -> list[RankedHost]:
        size = len(self.index)
        masks = answer_masks(visitor.ecosystems, visitor.topics, visitor.activities)
        while True:
            ids, similarities = found
            if not len(ids):
                return []
            lowest = float(similarities[-1])
            # Hosts that surely break a cheap rule are dropped here, all at once; fits() checks the rest.
            keep = self._may_fit(visitor, ids)
            ids, similarities = ids[keep], similarities[keep]
            ranked = self._rank_candidates(visitor, masks, ids, similarities, policy, limit)
            if pool >= size or pool >= self.max_candidate_pool:
                return ranked
            # A host outside the pool may still enter (the list is short, or a host less similar than the
            # pool's last could make up for it with its answers): find exactly those hosts and score them with
            # the pool, rather than widening the pool (a far larger search: 7 ms against 1 ms, measured).
            floor = ranked[-1].score - SCORE_SLACK if len(ranked) == limit else -np.inf
            if score_bound(lowest, policy.weights) < floor:
                return ranked  # no host outside the pool can enter
            contenders = self._contenders(visitor, masks, ids, lowest, floor, policy)
            if len(contenders) <= pool:
                extra = self.index.similarities(vector, contenders)
                return self._rank_candidates(visitor, masks, np.concatenate([ids, contenders]),
                                             np.concatenate([similarities, extra]), policy, limit)
            pool = min(pool * 4, size, self.max_candidate_pool)
            found = self.index.search_ids(vector, pool)

    def _may_fit(self, visitor: VisitorProfile, ids: np.ndarray) -> np.ndarray:
        return may_fit(visitor, self.index.rule_columns(ids), country_number=self.index.country_number,
                       language_bit=self.index.language_bit)

    def _rank_candidates(self, visitor: VisitorProfile, masks: tuple[int, int, int], ids: np.ndarray,
                         similarities: np.ndarray, policy: MatchPolicy, limit: int) -> list[RankedHost]:
        # Candidates in falling order of the best score each could reach: reading stops early and exactly.
        bounds = structured_bounds(visitor, masks, self.index.answer_masks_of(ids),
                                   self.index.in_countries(ids, visitor.preferred_countries),
                                   similarities.astype(np.float64), policy.weights)
        order = np.argsort(-bounds, kind="stable")
        profile_at = self.index.profile_at
        ordered_ids, ordered_similarities = ids[order].tolist(), similarities[order].tolist()
        return rank_hosts(
            visitor, ((profile_at(i), s) for i, s in zip(ordered_ids, ordered_similarities, strict=True)),
            policy, limit=limit, bounds=bounds[order].tolist())

    def _contenders(self, visitor: VisitorProfile, masks: tuple[int, int, int], pooled: np.ndarray,
                    lowest: float, floor: float, policy: MatchPolicy) -> np.ndarray:
        """Hosts outside the pool (so at most `lowest` similar) whose score could still reach `floor`."""
        outside = self.index.live_ids()
        outside = outside[~np.isin(outside, pooled, assume_unique=True)]
        outside = outside[self._may_fit(visitor, outside)]
        bounds = structured_bounds(visitor, masks, self.index.answer_masks_of(outside),
                                   self.index.in_countries(outside, visitor.preferred_countries),
                                   np.full(len(outside), max(lowest, 0.0)), policy.weights)
        return outside[bounds >= floor]


def today_utc() -> date:
    """Today's date in UTC: availability is counted from it."""
    return datetime.now(UTC).date()


@dataclass
class LiveStats:
    """Counters behind GET /api/matcher/status and the logs."""

    visitor_batches: int = 0
    visitor_runs: int = 0
    host_runs: int = 0
    visitor_records_skipped: int = 0
    dead_lettered: int = 0
    rematch_failures: int = 0
    last_run_at: str | None = None
    owned_partitions: list[int] = field(default_factory=list)


class LiveMatching:
    """What the running service does with records: match, publish, re-match, hand partitions over."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        ranker: Ranker,
        applications: OpenApplications,
        store: ApplicationStore,
        publish: Publish,
        policy: Callable[[], MatchPolicy],
        model_version: str,
        metrics: MatcherMetrics | None = None,
    ) -> None:
        self.metrics = metrics or MatcherMetrics()
        self.embedder = embedder
        self.ranker = ranker
        self.applications = applications
        self.store = store
        self.publish = publish
        self.policy = policy
        self.model_version = model_version
        self.owned: set[int] = set()
        self.stats = LiveStats()
        self.rematch_pending = False
        # The index and the open applications change only under this lock, so a visitor run and a host
        # re-match never see each other half done. Embedding happens outside it.
        self.lock = asyncio.Lock()

    @property
    def index(self) -> HostIndex:
        """The host index (replaced once, when a snapshot is restored)."""
        return self.ranker.index

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode texts on a worker thread, so the event loop keeps serving HTTP and Kafka heartbeats."""
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return await asyncio.to_thread(self.embedder.encode, list(texts))

    # -- visitor answers -------------------------------------------------------------------------------

    async def handle_visitor_records(self, records: Sequence[ConsumerRecord], dead_letter: DeadLetter) -> None:
        """Match every new or revised application in a batch (one MatchFound each); forget withdrawn ones."""
        batch_started = time.perf_counter()
        self.stats.visitor_batches += 1
        latest: dict[UUID, tuple[ConsumerRecord, VisitorAnswersSubmitted | VisitorAnswersWithdrawn]] = {}
        for record in records:
            try:
                event = parse_event(record.topic, record.value, record.headers, key=record.key)
            except ContractError as error:
                await dead_letter(record, error)
                self.stats.dead_lettered += 1
                continue
            assert isinstance(event, VisitorAnswersSubmitted | VisitorAnswersWithdrawn)
            # Records of one application arrive in order; the last in the batch is its current state.
            latest[event.application_id] = (record, event)
        submitted = [(r, e) for r, e in latest.values() if isinstance(e, VisitorAnswersSubmitted)]
        withdrawn = [(e.application_id, r.partition) for r, e in latest.values()
                     if isinstance(e, VisitorAnswersWithdrawn)]

        # A redelivered or stale record (revision not above the one matched) gets no second MatchFound. The
        # open applications of owned partitions are all in memory (loaded when the partition was assigned).
        fresh = [(r, e) for r, e in submitted if e.revision > self._matched_revision(e.application_id)]
        self.stats.visitor_records_skipped += len(submitted) - len(fresh)
        started = time.perf_counter()
        vectors = await self.embed([visitor_text(event.answers) for _, event in fresh])
        if fresh:
            self.metrics.observe("embed_visitors", time.perf_counter() - started)

        async with self.lock:
            runs = self._run_visitors(fresh, vectors)
            # Publish first, remember after: a crash in between repeats the run (same match_run_id), never
            # loses it.
            started = time.perf_counter()
            await asyncio.gather(*(self.publish(found, trace) for found, trace, _ in runs))
            self.metrics.observe("publish_batch", time.perf_counter() - started)
            for found, _, application in runs:
                self.metrics.published(found.trigger)
                if application.partition in self.owned:
                    self.applications.put(application)
            started = time.perf_counter()
            await self.store.save([application for _, _, application in runs])
            self.metrics.observe("store_batch", time.perf_counter() - started)
            for application_id, _ in withdrawn:
                self.applications.remove(application_id)
            await self.store.withdraw(withdrawn)
            self.stats.visitor_runs += len(runs)
            if runs:
                self.stats.last_run_at = datetime.now(UTC).isoformat()
        self.metrics.observe("visitor_batch", time.perf_counter() - batch_started)

    def _run_visitors(self, part: Sequence[tuple[ConsumerRecord, VisitorAnswersSubmitted]],
                      vectors: np.ndarray) -> list[tuple[MatchFound, str | None, OpenApplication]]:
        """Rank each visitor against the index as it is now (call under the lock)."""
        policy = self.policy()
        runs = []
        profiles = [VisitorProfile.from_answers(event.application_id, event.revision, event.organisation,
                                                event.answers) for _, event in part]
        started = time.perf_counter()
        lists = self.ranker.rank_many(profiles, vectors, policy)
        if part:
            self.metrics.observe("rank_batch", time.perf_counter() - started)
        for (record, event), vector, profile, ranked in zip(part, vectors, profiles, lists, strict=True):
            found = match_found(
                run_id=application_run_id(event.application_id, event.revision, event.event_id),
                application_id=event.application_id, revision=event.revision,
                trigger=application_trigger(event.revision), model=self.model_version, ranked=ranked,
            )
            trace = read_event_headers(record.headers).traceparent
            application = OpenApplication(profile=profile, vector=vector, partition=record.partition,
                                          event_id=event.event_id, matches=ranked,
                                          ranked_at=dict(self.index.offsets))
            runs.append((found, child_traceparent(trace), application))
        return runs

    def _matched_revision(self, application_id: UUID) -> int:
        held = self.applications.get(application_id)
        return 0 if held is None else held.revision

    # -- host answers ----------------------------------------------------------------------------------

    async def apply_host_records(self, records: Sequence[ConsumerRecord], dead_letter: DeadLetter, *,
                                 rematch: bool) -> None:
        """Add, replace or remove hosts; with `rematch`, publish new-host runs where a host enters a list."""
        latest: dict[UUID, tuple[ConsumerRecord, HostAnswersSubmitted | HostAnswersWithdrawn]] = {}
        next_offsets: dict[int, int] = {}
        for record in records:
            next_offsets[record.partition] = max(next_offsets.get(record.partition, 0), record.offset + 1)
            try:
                event = parse_event(record.topic, record.value, record.headers, key=record.key)
            except ContractError as error:
                if await dead_letter(record, error):
                    self.stats.dead_lettered += 1
                continue
            assert isinstance(event, HostAnswersSubmitted | HostAnswersWithdrawn)
            latest[event.host_id] = (record, event)
        submitted = [(r, e) for r, e in latest.values() if isinstance(e, HostAnswersSubmitted)]
        vectors = await self.embed([host_text(event.answers) for _, event in submitted])
        changes: list[HostChange] = []
        arrived: list[tuple[HostProfile, np.ndarray, str | None]] = []
        for (record, event), vector in zip(submitted, vectors, strict=True):
            profile = HostProfile.from_answers(event.host_id, event.revision, event.organisation, event.answers)
            changes.append(HostChange(event.host_id, profile, vector, (record.partition, record.offset)))
            arrived.append((profile, vector, read_event_headers(record.headers).traceparent))
        removed = [e.host_id for _, e in latest.values() if isinstance(e, HostAnswersWithdrawn)]
        changes.extend(HostChange(host_id, None, None) for host_id in removed)

        async with self.lock:
            self.index.apply(changes)
            self.index.cover(next_offsets)
            if removed:
                self._forget_hosts(set(removed))
            if rematch and arrived and len(self.applications):
                try:
                    await self._rematch_arrivals(arrived)
                except Exception:
                    # The index is already up to date; the lists are checked again (recheck_owned) before
                    # the next checkpoint, so no entering host is missed.
                    logger.exception("re-matching failed; it will be retried")
                    self.stats.rematch_failures += 1
                    self.rematch_pending = True

    def _forget_hosts(self, host_ids: set[UUID]) -> None:
        # A withdrawn host leaves every list held, making room for hosts that now enter (nothing published).
        for application in self.applications.all():
            if any(entry.host_id in host_ids for entry in application.matches):
                application.matches = [entry for entry in application.matches if entry.host_id not in host_ids]

    async def _rematch_arrivals(self, arrived: Sequence[tuple[HostProfile, np.ndarray, str | None]]) -> None:
        applications, goals = self.applications.goal_matrix()
        policy = self.policy()
        weights = policy.weights
        thresholds = np.array([
            app.matches[policy.top_n - 1].score if len(app.matches) >= policy.top_n else -np.inf
            for app in applications
        ])
        candidates: dict[UUID, list[tuple[HostProfile, str | None]]] = {}
        for host, vector, trace in arrived:
            cosines = goals @ np.asarray(vector, dtype=np.float32)
            # No rule check or score where even a perfect structured fit could not beat the list's last.
            bounds = weights.semantic * np.clip(cosines, 0.0, 1.0) + weights.non_semantic_total
            for position in np.flatnonzero(bounds + SCORE_SLACK >= thresholds):
                application = applications[position]
                if self._enters(application, host, float(cosines[position]), policy):
                    candidates.setdefault(application.application_id, []).append((host, trace))
        await self._rerank_and_publish(candidates, policy)

    def _enters(self, application: OpenApplication, host: HostProfile, cosine: float, policy: MatchPolicy) -> bool:
        if not fits(application.profile, host, as_of=policy.as_of):
            return False
        value = score(application.profile, host, cosine, policy.weights).score
        return would_enter(application.matches, host.host_id, value, policy.top_n)

    async def _rerank_and_publish(self, candidates: dict[UUID, list[tuple[HostProfile, str | None]]],
                                  policy: MatchPolicy) -> None:
        runs: list[tuple[MatchFound, str | None]] = []
        changed: list[OpenApplication] = []
        for application_id, hosts in candidates.items():
            application = self.applications.get(application_id)
            if application is None:
                continue
            ranked = self.ranker.rank(application.profile, application.vector, policy)
            now_in = set(entered(application.matches, ranked, [host.host_id for host, _ in hosts]))
            if not now_in:
                continue
            entering = [(host.host_id, host.revision) for host, _ in hosts if host.host_id in now_in]
            found = match_found(
                run_id=host_run_id(application_id, application.revision, entering),
                application_id=application_id, revision=application.revision, trigger="new-host",
                model=self.model_version, ranked=ranked,
            )
            trace = next((trace for host, trace in hosts if host.host_id in now_in), None)
            runs.append((found, child_traceparent(trace)))
            application.matches = ranked
            application.ranked_at = dict(self.index.offsets)
            changed.append(application)
        await asyncio.gather(*(self.publish(found, trace) for found, trace in runs))
        await self.store.save(changed)
        self.metrics.published("new-host", len(runs))
        self.stats.host_runs += len(runs)
        if runs:
            self.stats.last_run_at = datetime.now(UTC).isoformat()

    # -- partitions changing hands ---------------------------------------------------------------------

    async def take_over(self, partitions: Iterable[int]) -> None:
        """Load the open applications of newly owned partitions and re-match them against hosts that changed
        since their lists were made (by this replica or the previous owner)."""
        partitions = set(partitions)
        started = time.perf_counter()
        loaded = await self.store.load(partitions)
        self.metrics.observe("take_over_load", time.perf_counter() - started)
        async with self.lock:
            self.owned |= partitions
            self.stats.owned_partitions = sorted(self.owned)
            for application in loaded:
                application.matches = [m for m in application.matches if m.host_id in self.index]
                self.applications.put(application)
            await self._recheck(loaded)
        logger.info("partitions taken over", extra={"partitions": sorted(partitions), "applications": len(loaded)})

    async def release(self, partitions: Iterable[int]) -> None:
        """Forget the applications of partitions another replica now owns."""
        partitions = set(partitions)
        async with self.lock:
            self.owned -= partitions
            self.stats.owned_partitions = sorted(self.owned)
            self.applications.drop_partitions(partitions)

    async def recheck_owned(self) -> None:
        """Re-match every held application against hosts changed since its list (after a failed re-match)."""
        async with self.lock:
            await self._recheck(self.applications.all())
            self.rematch_pending = False

    async def _recheck(self, applications: Sequence[OpenApplication]) -> None:
        policy = self.policy()
        candidates: dict[UUID, list[tuple[HostProfile, str | None]]] = {}
        for application in applications:
            for host in self.index.changed_since(application.ranked_at):
                vector = self.index.vector(host.host_id)
                cosine = float(np.dot(application.vector, vector)) if vector is not None else 0.0
                if self._enters(application, host, cosine, policy):
                    candidates.setdefault(application.application_id, []).append((host, None))
        await self._rerank_and_publish(candidates, policy)

    async def checkpoint(self) -> None:
        """Record in the store that every held application has been checked against the index as it is now.

        Without it a partition's next owner would check each application against every host changed since
        its list was published; with it, only against hosts changed since this checkpoint.
        """
        if self.rematch_pending:
            await self.recheck_owned()
        async with self.lock:
            if not self.owned:
                return
            await self.store.mark_checked(sorted(self.owned), dict(self.index.offsets))
            for application in self.applications.all():
                application.ranked_at = dict(self.index.offsets)
            held = [app.stored_as for app in self.applications.all() if app.stored_as is not None]
            removed = await self.store.compact(sorted(self.owned), held)
            logger.info("open applications checkpointed", extra={"applications": len(held),
                                                                  "store_documents_removed": removed})
