"""The matcher's use cases: rank answers, answer visitor and host events, hand partitions over, checkpoint.

Handlers take decoded events (entrypoints/ decodes the Kafka records and dead-letters those that break the
contract) and work on the matching state, the host index and the open applications of this replica's
partitions, through small interfaces (the ones below: the model, the index, the store, the publisher);
bootstrap.py and app.py give them the real adapters.

`Ranking` is the one ranking path: the live service, `POST /api/matcher/preview` (`Ranking.rank`) and
`cx-matcher rank` (`Ranking.rank_sync`) all rank through it, and so through domain.ranker.Ranker.
`Matching` adds what only the running service does: it publishes MatchFound, keeps and stores the open
applications of its partitions, re-matches them as hosts arrive and as accepted or withdrawn exchanges change a
host's room (domain/bookings.py), and hands partitions over.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID, uuid4

import numpy as np

from cx_contracts.events import (
    ExchangeEvent,
    HostAnswersSubmitted,
    HostAnswersWithdrawn,
    MatchFound,
    VisitorAnswersSubmitted,
    VisitorAnswersWithdrawn,
)
from cx_contracts.questionnaire import HostAnswersState, OrganisationState, VisitorAnswersState
from cx_contracts.traceparent import child_traceparent

from cx_matcher.domain.applications import OpenApplication, OpenApplications, WithdrawnApplication
from cx_matcher.domain.bookings import Bookings
from cx_matcher.domain.profiles import HostChange, HostProfile, Position, VisitorProfile, host_text, visitor_text
from cx_matcher.domain.ranker import Ranker, SearchIndex
from cx_matcher.domain.ranking import SCORE_SLACK, MatchPolicy, RankedHost, entered, would_enter
from cx_matcher.domain.revisions import newest_records
from cx_matcher.domain.rules import fits, has_room
from cx_matcher.domain.runs import application_run_id, application_trigger, host_run_id, match_found, room_run_id
from cx_matcher.domain.scoring import score

logger = logging.getLogger(__name__)

HostEvent = HostAnswersSubmitted | HostAnswersWithdrawn
VisitorEvent = VisitorAnswersSubmitted | VisitorAnswersWithdrawn
EventT = TypeVar("EventT", HostEvent, VisitorEvent, ExchangeEvent)


@dataclass(frozen=True, slots=True)
class Received(Generic[EventT]):
    """A decoded event and what a handler needs of the record it came in, as plain values."""

    event: EventT
    partition: int
    offset: int
    traceparent: str | None


# -- what the handlers work on --------------------------------------------------------------------------


class Embedder(Protocol):
    """A loaded model: turns texts into L2-normalised float32 vectors, and says what it is (for the status)."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def backend(self) -> str: ...

    @property
    def path(self) -> Path | None: ...

    @property
    def max_tokens(self) -> int | None: ...

    @property
    def texts_encoded(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class RunMetrics(Protocol):
    """Where the time of each stage and the published runs are counted (adapters/metrics.py)."""

    def observe(self, stage: str, seconds: float) -> None: ...

    def published(self, trigger: str, count: int = 1) -> None: ...


class _Uncounted:
    """No metrics (a command, a test)."""

    def observe(self, stage: str, seconds: float) -> None:
        """Count nothing."""

    def published(self, trigger: str, count: int = 1) -> None:
        """Count nothing."""


class MatchingIndex(SearchIndex, Protocol):
    """The host index as matching keeps it: host records applied, topic offsets covered, snapshots taken."""

    @property
    def kind(self) -> str: ...

    @property
    def offsets(self) -> dict[int, int]: ...

    @property
    def changes(self) -> int: ...

    @property
    def dead_entries(self) -> int: ...

    def __contains__(self, host_id: object) -> bool: ...

    def profile(self, host_id: UUID) -> HostProfile | None: ...

    def revision_of(self, host_id: UUID) -> int | None: ...

    def vector(self, host_id: UUID) -> np.ndarray | None: ...

    def changed_since(self, offsets: Mapping[int, int]) -> list[HostProfile]: ...

    def apply(self, changes: Sequence[HostChange]) -> list[HostChange]: ...

    def cover(self, offsets: Mapping[int, int]) -> None: ...

    def snapshot_state(self) -> tuple[dict[str, Any], np.ndarray]: ...

    def restore(self, meta: Mapping[str, Any], index_bytes: np.ndarray) -> None: ...

    def clear(self) -> None: ...


class ApplicationStore(Protocol):
    """Where the open applications of every partition are kept for their next owner (adapters/open_applications.py)."""

    async def save(self, applications: Sequence[OpenApplication]) -> None: ...

    async def withdraw(self, withdrawn: Sequence[WithdrawnApplication]) -> None: ...

    async def load(self, partitions: Iterable[int]) -> tuple[list[OpenApplication], list[WithdrawnApplication]]: ...

    async def mark_checked(self, partitions: Sequence[int], offsets: Mapping[int, int]) -> None: ...

    async def compact(self, partitions: Sequence[int], current: Iterable[str]) -> int: ...


class MatchPublisher(Protocol):
    """Publishes MatchFound (adapters/match_publisher.py)."""

    async def publish(self, event: MatchFound, traceparent: str | None) -> None: ...


class HostEntry(Protocol):
    """A host's current answers: a HostAnswersSubmitted, or a line of a hosts file."""

    @property
    def host_id(self) -> UUID: ...

    @property
    def revision(self) -> int: ...

    @property
    def organisation(self) -> OrganisationState: ...

    @property
    def answers(self) -> HostAnswersState: ...


class Application(Protocol):
    """A visitor's organisation and answers: a preview request, or a line of an applications file."""

    @property
    def organisation(self) -> OrganisationState: ...

    @property
    def answers(self) -> VisitorAnswersState: ...


# -- ranking: what every caller shares -----------------------------------------------------------------


class Ranking:
    """The host index and how lists are made from it: what the service, the preview and the command share."""

    def __init__(
        self,
        index: MatchingIndex,
        encoder: Embedder,
        *,
        ranker: Ranker,
        policy: Callable[[date | None], MatchPolicy],
        model_version: str,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.ranker = ranker
        self._policy = policy
        self.model_version = model_version

    @property
    def bookings(self) -> Bookings:
        """What accepted exchanges hold of the hosts' capacity, counted by every list made."""
        return self.ranker.bookings

    def policy(self, as_of: date | None = None) -> MatchPolicy:
        """How lists are made now, counting dates from `as_of` (default: the configured day, or today)."""
        return self._policy(as_of)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode texts on a worker thread, so the event loop keeps serving HTTP and Kafka heartbeats."""
        if not texts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return await asyncio.to_thread(self.encoder.encode, list(texts))

    async def host_changes(self, hosts: Sequence[tuple[HostEntry, Position | None]]) -> list[HostChange]:
        """The index changes host entries make: each one's profile and embedded expertise (not applied yet)."""
        return _host_changes(hosts, await self.embed([host_text(host.answers) for host, _ in hosts]))

    def add_hosts(self, hosts: Iterable[HostEntry]) -> None:
        """Put host entries into the index, embedding on this thread (the command line has no event loop).

        A host given twice keeps its last entry, as on the topic.
        """
        latest = [(host, None) for host in {host.host_id: host for host in hosts}.values()]
        self.index.apply(_host_changes(latest, self.encoder.encode([host_text(host.answers) for host, _ in latest])))

    async def rank(
        self, applications: Sequence[Application], *, limit: int | None = None, policy: MatchPolicy | None = None
    ) -> list[list[RankedHost]]:
        """Each application's list against the index as it is now; nothing is stored or published."""
        vectors = await self.embed([visitor_text(a.answers) for a in applications])
        return self._rank(applications, vectors, limit=limit, policy=policy)

    def rank_sync(
        self, applications: Sequence[Application], *, limit: int | None = None, policy: MatchPolicy | None = None
    ) -> list[list[RankedHost]]:
        """`rank`, embedding on this thread, for a caller without an event loop (`cx-matcher rank`)."""
        vectors = self.encoder.encode([visitor_text(a.answers) for a in applications])
        return self._rank(applications, vectors, limit=limit, policy=policy)

    def rank_vectors(
        self, applications: Sequence[Application], vectors: np.ndarray, *, limit: int | None, policy: MatchPolicy | None
    ) -> list[list[RankedHost]]:
        """Each application's list for its embedded answers (`vectors`, one row each), nothing stored."""
        return self._rank(applications, vectors, limit=limit, policy=policy)

    def _rank(
        self, applications: Sequence[Application], vectors: np.ndarray, *, limit: int | None, policy: MatchPolicy | None
    ) -> list[list[RankedHost]]:
        profiles = [VisitorProfile.from_answers(uuid4(), 1, a.organisation, a.answers) for a in applications]
        # Ranking reads the index without awaiting, so no host change can interleave with it.
        return self.ranker.rank_many(profiles, vectors, policy or self.policy(), limit=limit)


def _host_changes(hosts: Sequence[tuple[HostEntry, Position | None]], vectors: np.ndarray) -> list[HostChange]:
    return [
        HostChange(
            host.host_id,
            HostProfile.from_answers(host.host_id, host.revision, host.organisation, host.answers),
            vector,
            position,
        )
        for (host, position), vector in zip(hosts, vectors, strict=True)
    ]


# -- matching: what the running service does -----------------------------------------------------------


@dataclass
class LiveStats:
    """Counters behind GET /api/matcher/status and the logs."""

    visitor_batches: int = 0
    visitor_runs: int = 0
    host_runs: int = 0
    visitor_records_skipped: int = 0
    last_run_at: str | None = None


@dataclass(frozen=True)
class Run:
    """One matching run worked out: its MatchFound, and the application version to keep once it is out."""

    found: MatchFound
    traceparent: str | None
    application: OpenApplication
    replaces: OpenApplication | None = None  # a re-match: the held version it was worked out from


class Matching:
    """Visitor runs, host re-matching and partitions changing hands, on this replica's matching state.

    Locking. The state (the index and the open applications) changes only under `_state`, and runs are worked
    out under it, so a visitor run and a host re-match never see each other half done. The slow I/O of a run
    (publishing MatchFound, storing the application) happens outside it, between working the run out and
    keeping its result, and memory changes only once both succeeded: a failed write leaves memory as it was,
    so the retry does the work again. While a run is out, its applications are "in flight": re-matching for
    arriving hosts skips them, and when the run is kept they are checked against every host that arrived
    meanwhile. The checkpoint waits until no run is in flight and holds the lock while it writes (see
    `checkpoint`).
    """

    def __init__(
        self,
        ranking: Ranking,
        *,
        applications: OpenApplications,
        store: ApplicationStore,
        publisher: MatchPublisher,
        metrics: RunMetrics | None = None,
    ) -> None:
        self.ranking = ranking
        self.applications = applications
        self.store = store
        self.publisher = publisher
        self.metrics: RunMetrics = metrics or _Uncounted()
        self.owned: set[int] = set()
        self.stats = LiveStats()
        self.rematch_pending = False
        self._state = asyncio.Condition()
        self._in_flight: Counter[UUID] = Counter()
        self._rooms_pending: set[UUID] = set()  # hosts whose room changed, their re-match not yet done

    @property
    def bookings(self) -> Bookings:
        """What accepted exchanges hold of the hosts' capacity."""
        return self.ranking.bookings

    def _seen(self) -> tuple[int, int]:
        """How far the index and the bookings have changed: a run compares it before and after its I/O."""
        return self.index.changes, self.bookings.changes

    @property
    def index(self) -> MatchingIndex:
        """The host index."""
        return self.ranking.index

    # -- visitor answers -------------------------------------------------------------------------------

    async def on_visitor_answers(self, batch: Sequence[Received[VisitorEvent]]) -> None:
        """Match every new or revised application of a batch (one MatchFound each); forget withdrawn ones."""
        batch_started = time.perf_counter()
        self.stats.visitor_batches += 1
        # A redelivered or stale record (revision not above the highest matched or withdrawn) changes nothing
        # and gets no second MatchFound: a stale submission after a tombstone does not re-open its application.
        # The open and withdrawn applications of owned partitions are all in memory (loaded when the partition
        # was assigned).
        latest = newest_records(
            batch,
            key=lambda r: r.event.application_id,
            revision=lambda r: r.event.revision,
            held=self.applications.revision_of,
        )
        fresh = [(r, r.event) for r, _ in latest.values() if isinstance(r.event, VisitorAnswersSubmitted)]
        withdrawn = [
            WithdrawnApplication(r.event.application_id, r.partition, highest or 0)
            for r, highest in latest.values()
            if isinstance(r.event, VisitorAnswersWithdrawn)
        ]
        submitted = {r.event.application_id for r in batch if isinstance(r.event, VisitorAnswersSubmitted)}
        self.stats.visitor_records_skipped += len(submitted - {e.application_id for _, e in fresh})
        started = time.perf_counter()
        vectors = await self.ranking.embed([visitor_text(event.answers) for _, event in fresh])
        if fresh:
            self.metrics.observe("embed_visitors", time.perf_counter() - started)

        async with self._state:
            runs = self._visitor_runs(fresh, vectors)
            seen = self._seen()
            touched = [run.application.application_id for run in runs] + [w.application_id for w in withdrawn]
            self._in_flight.update(touched)
        try:
            # Publish first, store after: a crash in between repeats the run (same match_run_id), never loses it.
            started = time.perf_counter()
            await asyncio.gather(*(self.publisher.publish(run.found, run.traceparent) for run in runs))
            self.metrics.observe("publish_batch", time.perf_counter() - started)
            started = time.perf_counter()
            await self.store.save([run.application for run in runs])
            self.metrics.observe("store_batch", time.perf_counter() - started)
            await self.store.withdraw(withdrawn)
        except BaseException:
            await self._land(touched, seen)
            raise
        async with self._state:
            kept = self._keep(runs)
            for withdrawal in withdrawn:
                if withdrawal.partition in self.owned:
                    self.applications.withdraw(withdrawal)
            self._landed(touched)
            missed = self._seen() != seen
            for run in runs:
                self.metrics.published(run.found.trigger)
            self.stats.visitor_runs += len(runs)
            if runs:
                self.stats.last_run_at = datetime.now(UTC).isoformat()
        if missed and kept:
            # Hosts or their room changed while these runs were out, and their re-matching skipped these applications.
            await self._rematch_or_defer(functools.partial(self._missed_runs, kept, seen))
        self.metrics.observe("visitor_batch", time.perf_counter() - batch_started)

    def _visitor_runs(
        self, fresh: Sequence[tuple[Received[VisitorEvent], VisitorAnswersSubmitted]], vectors: np.ndarray
    ) -> list[Run]:
        """Rank each visitor against the index as it is now (call under the lock)."""
        policy = self.ranking.policy()
        profiles = [
            VisitorProfile.from_answers(event.application_id, event.revision, event.organisation, event.answers)
            for _, event in fresh
        ]
        started = time.perf_counter()
        lists = self.ranking.ranker.rank_many(profiles, vectors, policy)
        if fresh:
            self.metrics.observe("rank_batch", time.perf_counter() - started)
        ranked_at = dict(self.index.offsets)
        runs = []
        for (received, event), vector, profile, ranked in zip(fresh, vectors, profiles, lists, strict=True):
            found = match_found(
                run_id=application_run_id(event.application_id, event.revision, event.event_id),
                application_id=event.application_id,
                revision=event.revision,
                trigger=application_trigger(event.revision),
                model=self.ranking.model_version,
                ranked=ranked,
            )
            application = OpenApplication(
                profile=profile,
                vector=vector,
                partition=received.partition,
                event_id=event.event_id,
                matches=ranked,
                ranked_at=dict(ranked_at),
            )
            runs.append(Run(found, child_traceparent(received.traceparent), application))
        return runs

    # -- host answers ----------------------------------------------------------------------------------

    async def on_host_answers(
        self, batch: Sequence[Received[HostEvent]], *, covered: Mapping[int, int], rematch: bool
    ) -> None:
        """Add, replace or remove hosts; with `rematch`, publish new-host runs where a host enters a list.

        A record whose revision is not above the host's highest seen (withdrawn hosts included) changes nothing.
        `covered` is the next offset to read per host-topic partition once the batch is applied (past records
        that were dead-lettered too).
        """
        # Only the records that decide a host's state are embedded; the index checks the revisions again.
        latest = [
            received
            for received, _ in newest_records(
                batch,
                key=lambda r: r.event.host_id,
                revision=lambda r: r.event.revision,
                held=self.index.revision_of,
            ).values()
        ]
        submitted = [(r, r.event) for r in latest if isinstance(r.event, HostAnswersSubmitted)]
        changes = await self.ranking.host_changes([(event, (r.partition, r.offset)) for r, event in submitted])
        traces = {r.event.host_id: r.traceparent for r in latest}
        removals = [
            HostChange(r.event.host_id, None, None, revision=r.event.revision)
            for r in latest
            if isinstance(r.event, HostAnswersWithdrawn)
        ]
        async with self._state:
            applied = self.index.apply([*changes, *removals])
            self.index.cover(covered)
            removed = {change.host_id for change in applied if change.profile is None}
            if removed:
                self._forget_hosts(removed)
            arrived = [(change, traces[change.host_id]) for change in applied if change.profile is not None]
            if not (rematch and arrived and len(self.applications)):
                return
        await self._rematch_or_defer(functools.partial(self._arrival_runs, arrived))

    async def cover(self, offsets: Mapping[int, int]) -> None:
        """Record that the index reflects the host topic up to `offsets` (records past them were compacted away)."""
        async with self._state:
            self.index.cover(offsets)

    async def restore_index(self, meta: Mapping[str, Any], index_bytes: np.ndarray) -> None:
        """Replace the hosts held with a snapshot's (read back by adapters/snapshots.py), at start-up."""
        async with self._state:
            self.index.restore(meta, index_bytes)

    async def clear_index(self) -> None:
        """Forget every host (the topic no longer holds what the restored snapshot covered)."""
        async with self._state:
            self.index.clear()

    def _forget_hosts(self, host_ids: set[UUID]) -> None:
        # A withdrawn host leaves every list held, making room for hosts that now enter (nothing published).
        for application in self.applications.all():
            if any(entry.host_id in host_ids for entry in application.matches):
                application.matches = [entry for entry in application.matches if entry.host_id not in host_ids]

    def _arrival_runs(self, arrived: Sequence[tuple[HostChange, str | None]]) -> list[Run]:
        """New-host runs for the held applications whose list an arrived host enters (call under the lock)."""
        policy = self.ranking.policy()
        return self._host_runs(self._entering(arrived, policy), policy)

    def _entering(
        self, arrived: Sequence[tuple[HostChange, str | None]], policy: MatchPolicy
    ) -> dict[UUID, list[tuple[HostProfile, str | None]]]:
        """The held applications (not in flight) whose list each arrived host would enter, with those hosts."""
        applications, goals = self.applications.goal_matrix()
        weights = policy.weights
        thresholds = np.array(
            [
                app.matches[policy.top_n - 1].score if len(app.matches) >= policy.top_n else -np.inf
                for app in applications
            ]
        )
        candidates: dict[UUID, list[tuple[HostProfile, str | None]]] = {}
        for change, trace in arrived:
            host = change.profile
            assert host is not None  # an arrival, not a removal
            cosines = goals @ np.asarray(change.vector, dtype=np.float32)
            # No rule check or score where even a perfect structured fit could not beat the list's last.
            bounds = weights.semantic * np.clip(cosines, 0.0, 1.0) + weights.non_semantic_total
            for position in np.flatnonzero(bounds + SCORE_SLACK >= thresholds):
                application = applications[position]
                # An application in flight is checked against this host when its run is kept.
                if application.application_id not in self._in_flight and self._enters(
                    application, host, float(cosines[position]), policy
                ):
                    candidates.setdefault(application.application_id, []).append((host, trace))
        return candidates

    def _recheck_runs(self, applications: Sequence[OpenApplication]) -> list[Run]:
        """New-host runs for hosts changed since each application's list was made (call under the lock)."""
        policy = self.ranking.policy()
        candidates: dict[UUID, list[tuple[HostProfile, str | None]]] = {}
        for application in applications:
            if self.applications.get(application.application_id) is not application:
                continue  # moved on meanwhile; its newer version is checked on its own
            for host in self.index.changed_since(application.ranked_at):
                vector = self.index.vector(host.host_id)
                cosine = float(np.dot(application.vector, vector)) if vector is not None else 0.0
                if self._enters(application, host, cosine, policy):
                    candidates.setdefault(application.application_id, []).append((host, None))
        return self._host_runs(candidates, policy)

    def _room_runs(self, host_ids: set[UUID], applications: Sequence[OpenApplication] | None = None) -> list[Run]:
        """Runs for the held applications (default: all) whose list a change of these hosts' room changes: a host
        now full for an application's window leaves its list, one with room again enters as an arrival does
        (call under the lock)."""
        policy = self.ranking.policy()
        hosts = {host_id: profile for host_id in host_ids if (profile := self.index.profile(host_id)) is not None}
        held = self.applications.all() if applications is None else applications
        considered = {
            a.application_id
            for a in held
            if self.applications.get(a.application_id) is a and a.application_id not in self._in_flight
        }
        affected = {
            application.application_id
            for application in held
            if application.application_id in considered
            and any(
                entry.host_id in hosts and not self._has_room(application, hosts[entry.host_id], policy)
                for entry in application.matches
            )
        }
        arrivals = [(HostChange(host_id, host, self.index.vector(host_id)), None) for host_id, host in hosts.items()]
        affected |= considered & set(self._entering(arrivals, policy))
        runs = []
        for application_id in sorted(affected, key=str):
            application = self.applications.get(application_id)
            assert application is not None  # considered: held now
            ranked = self.ranking.ranker.rank(application.profile, application.vector, policy)
            before, now = {e.host_id for e in application.matches}, {e.host_id for e in ranked}
            moved = sorted(((before ^ now) & hosts.keys()), key=str)
            if not moved:
                continue
            found = match_found(
                run_id=room_run_id(
                    application_id,
                    application.revision,
                    [(host_id, self.bookings.version_of(host_id)) for host_id in moved],
                ),
                application_id=application_id,
                revision=application.revision,
                trigger="new-host",
                model=self.ranking.model_version,
                ranked=ranked,
            )
            changed = dataclasses.replace(
                application, matches=ranked, ranked_at=dict(self.index.offsets), stored_as=None
            )
            runs.append(Run(found, None, changed, replaces=application))
        return runs

    def _missed_runs(self, kept: Sequence[OpenApplication], seen: tuple[int, int]) -> list[Run]:
        """Runs for applications kept after their run was out: hosts and rooms changed meanwhile (under the lock)."""
        runs = self._recheck_runs(kept)
        rooms = self.bookings.room_changed_since(seen[1])
        if rooms:
            rerun = {run.application.application_id for run in runs}
            runs += self._room_runs(rooms, [a for a in kept if a.application_id not in rerun])
        return runs

    def _has_room(self, application: OpenApplication, host: HostProfile, policy: MatchPolicy) -> bool:
        return has_room(application.profile, host, self.bookings.of_host(host.host_id), policy.as_of)

    def _enters(self, application: OpenApplication, host: HostProfile, cosine: float, policy: MatchPolicy) -> bool:
        if not fits(application.profile, host, as_of=policy.as_of) or not self._has_room(application, host, policy):
            return False
        value = score(application.profile, host, cosine, policy.weights).score
        return would_enter(application.matches, host.host_id, value, policy.top_n)

    def _host_runs(
        self, candidates: Mapping[UUID, Sequence[tuple[HostProfile, str | None]]], policy: MatchPolicy
    ) -> list[Run]:
        """Rank each candidate application again; a run where one of its candidate hosts now enters its list."""
        ranked_at = dict(self.index.offsets)
        runs = []
        for application_id, hosts in candidates.items():
            application = self.applications.get(application_id)
            if application is None:
                continue
            ranked = self.ranking.ranker.rank(application.profile, application.vector, policy)
            now_in = set(entered(application.matches, ranked, [host.host_id for host, _ in hosts]))
            if not now_in:
                continue
            entering = [(host.host_id, host.revision) for host, _ in hosts if host.host_id in now_in]
            found = match_found(
                run_id=host_run_id(application_id, application.revision, entering),
                application_id=application_id,
                revision=application.revision,
                trigger="new-host",
                model=self.ranking.model_version,
                ranked=ranked,
            )
            trace = next((trace for host, trace in hosts if host.host_id in now_in), None)
            changed = dataclasses.replace(application, matches=ranked, ranked_at=dict(ranked_at), stored_as=None)
            runs.append(Run(found, child_traceparent(trace), changed, replaces=application))
        return runs

    async def _rematch(self, work_out: Callable[[], list[Run]]) -> None:
        """Work new-host runs out under the lock, publish and store them outside it, keep them under it again.

        Repeats for the applications kept while hosts arrived during the I/O. On failure nothing is kept and
        `rematch_pending` asks for the lists to be checked again (soon by the host reader, at the latest by the
        checkpoint).
        """
        while True:
            async with self._state:
                runs = work_out()
                seen = self._seen()
                touched = [run.application.application_id for run in runs]
                self._in_flight.update(touched)
            if not runs:
                return
            try:
                await asyncio.gather(*(self.publisher.publish(run.found, run.traceparent) for run in runs))
                await self.store.save([run.application for run in runs])
            except BaseException:
                self.rematch_pending = True
                await self._land(touched, seen)
                raise
            async with self._state:
                kept = self._keep(runs)
                self._landed(touched)
                self.metrics.published("new-host", len(runs))
                self.stats.host_runs += len(runs)
                self.stats.last_run_at = datetime.now(UTC).isoformat()
                if self._seen() == seen or not kept:
                    return
            work_out = functools.partial(self._missed_runs, kept, seen)

    async def _rematch_or_defer(self, work_out: Callable[[], list[Run]]) -> None:
        try:
            await self._rematch(work_out)
        except Exception:
            # The index is already up to date; the lists are checked again (recheck) before the next
            # checkpoint, so no entering host is missed.
            logger.exception("re-matching failed; it will be retried")

    def _keep(self, runs: Sequence[Run]) -> list[OpenApplication]:
        """Put the applications of runs that are out into memory, unless memory moved on; returns those kept."""
        kept = []
        for run in runs:
            application = run.application
            if application.partition not in self.owned:
                continue  # the partition changed hands while the run was out
            held = self.applications.get(application.application_id)
            if run.replaces is not None:
                keep = held is run.replaces  # a re-match only updates the version it was worked out from
            else:
                # Neither an older version nor a withdrawal that came meanwhile is undone.
                keep = application.revision > (self.applications.revision_of(application.application_id) or 0)
            if keep:
                # Hosts withdrawn while the run was out leave its list too, as they left the lists held.
                application.matches = [entry for entry in application.matches if entry.host_id in self.index]
                self.applications.put(application)
                kept.append(application)
        return kept

    def _landed(self, touched: Iterable[UUID]) -> None:
        """The runs on these applications are over (call under the lock)."""
        self._in_flight -= Counter(touched)
        self._state.notify_all()

    async def _land(self, touched: Iterable[UUID], seen: tuple[int, int]) -> None:
        """Runs that failed are over; memory keeps what it held."""
        async with self._state:
            self._landed(touched)
            if self._seen() != seen:
                # Re-matches skipped these applications while the runs were out: check their lists again.
                self._rooms_pending |= self.bookings.room_changed_since(seen[1])
                self.rematch_pending = True

    # -- partitions changing hands ---------------------------------------------------------------------

    async def take_over(self, partitions: Iterable[int]) -> None:
        """Load the open applications of newly owned partitions and re-match them against hosts that changed
        since their lists were made (by this replica or the previous owner)."""
        partitions = set(partitions)
        started = time.perf_counter()
        loaded, withdrawals = await self.store.load(partitions)
        self.metrics.observe("take_over_load", time.perf_counter() - started)

        def adopt() -> list[Run]:
            self.owned |= partitions
            for withdrawal in withdrawals:
                self.applications.withdraw(withdrawal)
            for application in loaded:
                application.matches = [m for m in application.matches if m.host_id in self.index]
                self.applications.put(application)
            # The previous owner's lists may predate the latest bookings: every host with bookings, or freed
            # from one, is checked too.
            return self._missed_runs(loaded, (self.index.changes, 0))

        await self._rematch(adopt)
        logger.info("partitions taken over", extra={"partitions": sorted(partitions), "applications": len(loaded)})

    async def release(self, partitions: Iterable[int]) -> None:
        """Forget the applications of partitions another replica now owns."""
        partitions = set(partitions)
        async with self._state:
            self.owned -= partitions
            self.applications.drop_partitions(partitions)

    async def recheck(self) -> None:
        """Re-match every held application against hosts changed since its list, and where a host's room
        changed (after a failed re-match)."""
        self.rematch_pending = False
        await self._rematch(lambda: self._recheck_runs(self.applications.all()))
        await self._rematch_rooms()

    # -- exchanges -------------------------------------------------------------------------------------

    async def on_exchange_steps(self, batch: Sequence[Received[ExchangeEvent]], *, rematch: bool) -> None:
        """Keep what the exchanges' steps book; with `rematch`, re-match the held applications whose list a
        host's changed room changes (a host now full leaves it, a host with room again may enter)."""
        async with self._state:
            changed = self.bookings.apply(received.event for received in batch)
            if not (rematch and changed and len(self.applications)):
                return
            self._rooms_pending |= changed
        try:
            await self._rematch_rooms()
        except Exception:
            logger.exception("re-matching after bookings changed failed; it will be retried")

    async def _rematch_rooms(self) -> None:
        """Re-match for the hosts whose room changed; they stay pending until their runs are out and kept."""
        if not self._rooms_pending:
            return
        hosts = set(self._rooms_pending)
        await self._rematch(functools.partial(self._room_runs, hosts))
        self._rooms_pending -= hosts

    async def checkpoint(self) -> None:
        """Record in the store that every held application has been checked against the index as it is now.

        Without it a partition's next owner would check each application against every host changed since
        its list was published; with it, only against hosts changed since this checkpoint.
        """
        if self.rematch_pending:
            await self.recheck()
        async with self._state:
            # Both writes describe the whole held state: the marker says every held application was checked
            # up to these offsets, compaction deletes every document but the held versions. So they wait until
            # no run is out, and hold the lock while they write, so that no run starts half way through and no
            # partition changes hands while its documents are being compacted. They are rare (once per snapshot
            # interval), so holding the lock across their I/O costs little.
            await self._state.wait_for(lambda: not self._in_flight)
            if not self.owned:
                return
            partitions, offsets = sorted(self.owned), dict(self.index.offsets)
            await self.store.mark_checked(partitions, offsets)
            held = self.applications.all()
            for application in held:
                application.ranked_at = dict(offsets)
            stored = [a.stored_as for a in held] + [w.stored_as for w in self.applications.withdrawals()]
            current = [document_id for document_id in stored if document_id is not None]
            removed = await self.store.compact(partitions, current)
        logger.info(
            "open applications checkpointed", extra={"applications": len(held), "store_documents_removed": removed}
        )

    async def preview(
        self, applications: Sequence[Application], *, limit: int, policy: MatchPolicy
    ) -> list[list[RankedHost]]:
        """Rank answers against the index as it is now, storing and publishing nothing, off the event loop.

        The texts are embedded on a worker thread, then ranked on another while the state lock keeps host and
        booking changes (which are applied on the loop, under the same lock) out: the loop keeps serving the
        consumers' heartbeats and other requests meanwhile."""
        vectors = await self.ranking.embed([visitor_text(a.answers) for a in applications])
        async with self._state:
            return await asyncio.to_thread(self.ranking.rank_vectors, applications, vectors, limit=limit, policy=policy)
