"""Ranking: hard rules first, then the blended score, best first, top N; and when a new host enters a list.

The one ranking path: the live service, the preview endpoint and `cx-matcher rank` all call `rank_hosts`
with candidates from the host index (chosen by ranker.Ranker), so the same answers give the same list
everywhere.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

from cx_matcher.domain.bookings import Bookings
from cx_matcher.domain.profiles import HostProfile, VisitorProfile
from cx_matcher.domain.rules import dates_fit, fits_apart_from_dates, has_room
from cx_matcher.domain.scoring import (
    CRITERIA,
    ScoringWeights,
    contributions,
    raw_criteria,
    score_bound,
    score_without_keywords,
    total,
)

# Scores are sums of six values rounded to 6 decimals: bounds are compared with more slack than that adds.
SCORE_SLACK = 1e-5


def today_utc() -> date:
    """Today's date in UTC: availability is counted from it."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class MatchPolicy:
    """How lists are made: weights, list length, and the day from which dates count."""

    weights: ScoringWeights = field(default_factory=ScoringWeights)
    top_n: int = 10
    as_of: date | None = None


@dataclass(frozen=True, slots=True)
class RankedHost:
    """One host in a visitor's list."""

    host_id: UUID
    rank: int
    score: float
    explanation: dict[str, float]


def _order(item: tuple[float, str]) -> tuple[float, str]:
    # Best score first; equal scores by host id, so every replica and the command line agree on ties.
    return (-item[0], item[1])


def rank_hosts(
    visitor: VisitorProfile,
    candidates: Iterable[tuple[HostProfile, float]],
    policy: MatchPolicy,
    *,
    limit: int | None = None,
    by_falling_similarity: bool = False,
    bounds: Sequence[float] | None = None,
    bookings: Bookings | None = None,
) -> list[RankedHost]:
    """The best `limit` (default: policy.top_n) of `candidates` (host, cosine) that break no hard rule, the
    capacity counted with what `bookings` hold of each host for the visitor's window (rules.taken_for_window).

    Exact, but lazy: once the list is full, a candidate whose score cannot reach its last entry, even with
    every keyword matching, is dropped before its dates and keywords are looked at; and reading stops once no
    later candidate could enter: when the caller says they come in falling similarity (as the index returns
    them), or gives `bounds` (each candidate's most reachable score, see scoring.structured_bounds) in
    falling order.
    """
    limit = policy.top_n if limit is None else limit
    if limit <= 0:
        return []
    weights = policy.weights
    as_of = policy.as_of
    keyword_weight = weights.keywords
    best: list[float] = []  # min-heap of the `limit` best scores so far
    scored: list[tuple[float, str, HostProfile, tuple[float, ...]]] = []
    for position, (host, cosine) in enumerate(candidates):
        full = len(best) == limit
        if full:
            floor = best[0] - SCORE_SLACK
            if bounds is not None and bounds[position] < floor:
                break  # no later candidate can reach the list
            if by_falling_similarity and score_bound(cosine, weights) < floor:
                break  # every later candidate is at most this similar
        if not fits_apart_from_dates(visitor, host):
            continue
        if full and score_without_keywords(visitor, host, cosine, weights) + keyword_weight < floor:
            continue
        if not dates_fit(visitor, host, as_of):
            continue
        if bookings is not None and not has_room(visitor, host, bookings.of_host(host.host_id), as_of):
            continue
        parts = contributions(raw_criteria(visitor, host, cosine, weights.semantic_floor), weights)
        value = total(parts)
        scored.append((value, str(host.host_id), host, parts))
        if not full:
            heapq.heappush(best, value)
        elif value > best[0]:
            heapq.heapreplace(best, value)
    scored.sort(key=lambda item: (-item[0], item[1]))
    ranked = []
    for position, (value, _, host, parts) in enumerate(scored[:limit], start=1):
        ranked.append(
            RankedHost(
                host_id=host.host_id, rank=position, score=value, explanation=dict(zip(CRITERIA, parts, strict=True))
            )
        )
    return ranked


def would_enter(current: Sequence[RankedHost], host_id: UUID, host_score: float, top_n: int) -> bool:
    """Whether a host with `host_score`, not in `current`, would make a list of `top_n` now holding `current`."""
    if any(entry.host_id == host_id for entry in current):
        return False
    if len(current) < top_n:
        return True
    last = current[top_n - 1]
    return _order((host_score, str(host_id))) < _order((last.score, str(last.host_id)))


def entered(previous: Sequence[RankedHost], now: Sequence[RankedHost], hosts: Iterable[UUID]) -> list[UUID]:
    """Those of `hosts` that are in the list `now` but were not in `previous`."""
    before = {entry.host_id for entry in previous}
    listed = {entry.host_id for entry in now}
    return [host for host in hosts if host in listed and host not in before]
