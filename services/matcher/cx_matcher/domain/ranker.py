"""The Ranker: which hosts of the index to score for a visitor, so that its list is the exhaustive one, fast.

It reads the index through `SearchIndex`, the interface defined here; the FAISS index in
adapters/host_index.py is the one implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from cx_matcher.domain.bookings import Bookings
from cx_matcher.domain.profiles import HostProfile, VisitorProfile, answer_masks
from cx_matcher.domain.ranking import SCORE_SLACK, MatchPolicy, RankedHost, rank_hosts
from cx_matcher.domain.rules import RuleColumns, may_fit
from cx_matcher.domain.scoring import score_bound, structured_bounds

Found = tuple[np.ndarray, np.ndarray]  # ids and cosine similarities, best first
Masks = tuple[int, int, int]  # ecosystems, topics, activities (profiles.answer_masks)


class SearchIndex(Protocol):
    """What ranking reads from the host index: similarity search, and the answers of its hosts as columns.

    Hosts are named by their index ids (ints); `profile_at` gives the profile behind one.
    """

    def __len__(self) -> int: ...

    def search_ids(self, vector: np.ndarray, k: int) -> Found: ...

    def search_ids_many(self, vectors: np.ndarray, k: int) -> list[Found]: ...

    def similarities(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray: ...

    def live_ids(self) -> np.ndarray: ...

    def profile_at(self, faiss_id: int) -> HostProfile: ...

    def answer_masks_of(self, ids: np.ndarray) -> np.ndarray: ...

    def in_countries(self, ids: np.ndarray, countries: Iterable[str]) -> np.ndarray: ...

    def rule_columns(self, ids: np.ndarray) -> RuleColumns: ...

    def country_number(self, country: str) -> int | None: ...

    def language_bit(self, language: str) -> int: ...


class Ranker:
    """Ranks hosts of the index for a visitor: the hosts closest by similarity, scored and filtered.

    It scores the `candidate_pool` closest hosts first. If a host outside the pool (so at most as similar as
    the pool's last) could still enter the list, because the list is short or because its answers could make
    up for the lower similarity, exactly those hosts are found from the index's answer columns and scored with
    the pool. Only when they are more than a pool's worth does the pool grow instead (x4 a step, up to
    `max_candidate_pool`). Up to that cap the list equals an exhaustive ranking of the whole index
    (docs/benchmarks.md compares them). A batch of visitors shares one index search (`rank_many`). The capacity
    is counted with what `bookings` hold (the index's capacity column stays an upper bound of the room left).
    """

    def __init__(
        self,
        index: SearchIndex,
        *,
        bookings: Bookings | None = None,
        candidate_pool: int = 500,
        max_candidate_pool: int = 5000,
    ) -> None:
        self.index = index
        self.bookings = Bookings() if bookings is None else bookings
        self.candidate_pool = candidate_pool
        self.max_candidate_pool = max(max_candidate_pool, candidate_pool)

    def rank(
        self, visitor: VisitorProfile, vector: np.ndarray, policy: MatchPolicy, *, limit: int | None = None
    ) -> list[RankedHost]:
        """The visitor's list: best first, at most `limit` (default policy.top_n) hosts, none breaking a rule."""
        return self.rank_many([visitor], np.asarray(vector).reshape(1, -1), policy, limit=limit)[0]

    def rank_many(
        self, visitors: Sequence[VisitorProfile], vectors: np.ndarray, policy: MatchPolicy, *, limit: int | None = None
    ) -> list[list[RankedHost]]:
        """`rank` for each visitor (row of `vectors`), with one index search for all their first pools."""
        limit = policy.top_n if limit is None else limit
        pool = min(max(self.candidate_pool, limit), len(self.index))
        firsts = self.index.search_ids_many(vectors, pool)
        return [
            self._rank(visitor, vector, policy, limit, pool, first)
            for visitor, vector, first in zip(visitors, vectors, firsts, strict=True)
        ]

    def _rank(
        self, visitor: VisitorProfile, vector: np.ndarray, policy: MatchPolicy, limit: int, pool: int, found: Found
    ) -> list[RankedHost]:
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
                return self._rank_candidates(
                    visitor,
                    masks,
                    np.concatenate([ids, contenders]),
                    np.concatenate([similarities, extra]),
                    policy,
                    limit,
                )
            pool = min(pool * 4, size, self.max_candidate_pool)
            found = self.index.search_ids(vector, pool)

    def _may_fit(self, visitor: VisitorProfile, ids: np.ndarray) -> np.ndarray:
        return may_fit(
            visitor,
            self.index.rule_columns(ids),
            country_number=self.index.country_number,
            language_bit=self.index.language_bit,
        )

    def _bounds(
        self, visitor: VisitorProfile, masks: Masks, ids: np.ndarray, similarities: np.ndarray, policy: MatchPolicy
    ) -> np.ndarray:
        return structured_bounds(
            visitor,
            masks,
            self.index.answer_masks_of(ids),
            self.index.in_countries(ids, visitor.preferred_countries),
            similarities,
            policy.weights,
        )

    def _rank_candidates(
        self,
        visitor: VisitorProfile,
        masks: Masks,
        ids: np.ndarray,
        similarities: np.ndarray,
        policy: MatchPolicy,
        limit: int,
    ) -> list[RankedHost]:
        # Candidates in falling order of the best score each could reach: reading stops early and exactly.
        bounds = self._bounds(visitor, masks, ids, similarities.astype(np.float64), policy)
        order = np.argsort(-bounds, kind="stable")
        profile_at: Callable[[int], HostProfile] = self.index.profile_at
        ordered_ids, ordered_similarities = ids[order].tolist(), similarities[order].tolist()
        return rank_hosts(
            visitor,
            ((profile_at(i), s) for i, s in zip(ordered_ids, ordered_similarities, strict=True)),
            policy,
            limit=limit,
            bounds=bounds[order].tolist(),
            bookings=self.bookings,
        )

    def _contenders(
        self,
        visitor: VisitorProfile,
        masks: Masks,
        pooled: np.ndarray,
        lowest: float,
        floor: float,
        policy: MatchPolicy,
    ) -> np.ndarray:
        """Hosts outside the pool (so at most `lowest` similar) whose score could still reach `floor`."""
        outside = self.index.live_ids()
        outside = outside[~np.isin(outside, pooled, assume_unique=True)]
        outside = outside[self._may_fit(visitor, outside)]
        bounds = self._bounds(visitor, masks, outside, np.full(len(outside), max(lowest, 0.0)), policy)
        return outside[bounds >= floor]
