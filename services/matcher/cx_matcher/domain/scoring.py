"""The blended score of a host for a visitor, and its explanation: each criterion's contribution.

Every criterion is a number in [0, 1]; the score is the weighted sum, and the explanation lists each
weighted term, so its values add up to the score:

- semantic: cosine similarity of the visitor's goals and the host's expertise (embeddings), counted from the
  model's `semantic_floor` (the similarity of unrelated texts: 0 there and below, 1 at identical texts), so
  the criterion spreads over [0, 1] like the others whatever the model's range of cosines;
- ecosystems, topics, activities: the share of what the visitor asked for that the host offers
  (|wanted & offered| / |wanted|), so a host offering more than asked is not penalised for it;
- keywords: the share of the visitor's keywords that a host keyword matches after normalisation
  (equal, or one's words contained in the other's: "offshore wind" matches "floating offshore wind");
- preferred_country: 1 when the host is in one of the visitor's preferred countries.

The weights and the floor are configuration (settings `weights`); both belong to the model. The defaults,
for multilingual-e5-small, are the best of a 960-point grid on the development splits of both evaluation
sets together (semantic 1 : ecosystems 0.3 : topics 0.3 : activities 0.1 : keywords 0.1 : preferred country
0.05, normalised to sum 1), with the floor at the median similarity of unrelated pairs there (0.82); a
pairwise logistic regression over the same criteria did worse on dev and on test. Both were checked on the
held-out test splits (docs/matching-quality.md, evaluation/evaluate.py --learn).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cx_matcher.domain.profiles import HostProfile, KeywordForm, VisitorProfile

CRITERIA: tuple[str, ...] = ("semantic", "ecosystems", "topics", "activities", "keywords", "preferred_country")

# Contributions are rounded so that the published explanation is readable and sums exactly to the score.
DECIMALS = 6


class ScoringWeights(BaseModel):
    """How much each criterion counts; non-negative, at least one above zero."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    semantic: float = Field(0.5405, ge=0, le=10, description="Weight of goals-to-expertise cosine similarity.")
    ecosystems: float = Field(0.1622, ge=0, le=10, description="Weight of the ecosystems the host shares.")
    topics: float = Field(0.1622, ge=0, le=10, description="Weight of the topics the host shares.")
    activities: float = Field(0.0541, ge=0, le=10, description="Weight of the wanted activities the host offers.")
    keywords: float = Field(0.0541, ge=0, le=10, description="Weight of the visitor's keywords the host shares.")
    preferred_country: float = Field(0.027, ge=0, le=10, description="Bonus for a host in a preferred country.")
    semantic_floor: float = Field(
        0.82,
        ge=0,
        lt=1,
        description="Cosine similarity at which the semantic criterion is 0 (the similarity of unrelated texts "
        "for the model); it rises linearly to 1 at a cosine of 1.",
    )

    @model_validator(mode="after")
    def _something_counts(self) -> ScoringWeights:
        if not any(getattr(self, name) > 0 for name in CRITERIA):
            raise ValueError("at least one scoring weight must be above zero")
        return self

    @property
    def vector(self) -> tuple[float, ...]:
        """The weights in CRITERIA order."""
        return tuple(getattr(self, name) for name in CRITERIA)

    def as_dict(self) -> dict[str, float]:
        """Criterion -> weight, in CRITERIA order."""
        return {name: getattr(self, name) for name in CRITERIA}

    @property
    def non_semantic_total(self) -> float:
        """The most the criteria other than semantic can add to any score."""
        return self.ecosystems + self.topics + self.activities + self.keywords + self.preferred_country

    def fingerprint(self) -> str:
        """A short stable id of these weights and the floor, part of MatchFound's model_version."""
        text = json.dumps(self.model_dump(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class Scored:
    """A score and the contributions it is the sum of."""

    score: float
    explanation: dict[str, float]


def coverage(wanted: frozenset[str], offered: frozenset[str]) -> float:
    """The share of `wanted` found in `offered` (0 when nothing is wanted)."""
    if not wanted:
        return 0.0
    return len(wanted & offered) / len(wanted)


def keywords_match(wanted: KeywordForm, offered: KeywordForm) -> bool:
    """Two normalised keywords match when equal or when one's words all occur in the other."""
    if wanted == offered:
        return True
    wanted_words, offered_words = set(wanted), set(offered)
    return wanted_words <= offered_words or offered_words <= wanted_words


def keyword_coverage(wanted: Sequence[KeywordForm], offered: Sequence[KeywordForm]) -> float:
    """The share of the visitor's keywords that some host keyword matches."""
    if not wanted or not offered:
        return 0.0
    offered_set = set(offered)
    hits = sum(1 for form in wanted if form in offered_set or any(keywords_match(form, o) for o in offered))
    return hits / len(wanted)


def semantic_value(cosine: float, floor: float) -> float:
    """The semantic criterion of a goals-to-expertise cosine: 0 up to `floor`, rising linearly to 1 at 1."""
    return min(max((cosine - floor) / (1.0 - floor), 0.0), 1.0)


def semantic_values(cosines: np.ndarray, floor: float) -> np.ndarray:
    """`semantic_value` of many cosines at once."""
    return np.clip((cosines - floor) / (1.0 - floor), 0.0, 1.0)


def criteria(visitor: VisitorProfile, host: HostProfile, cosine: float, semantic_floor: float) -> dict[str, float]:
    """Each criterion's raw value in [0, 1] for this pair, `cosine` being goals-to-expertise similarity."""
    return dict(zip(CRITERIA, raw_criteria(visitor, host, cosine, semantic_floor), strict=True))


def raw_criteria(visitor: VisitorProfile, host: HostProfile, cosine: float, semantic_floor: float) -> tuple[float, ...]:
    """Each criterion's raw value, in CRITERIA order."""
    return (
        semantic_value(cosine, semantic_floor),
        coverage(visitor.ecosystems, host.ecosystems),
        coverage(visitor.topics, host.topics),
        coverage(visitor.activities, host.activities),
        keyword_coverage(visitor.keywords, host.keywords),
        1.0 if host.country in visitor.preferred_countries else 0.0,
    )


def contributions(raw: Sequence[float], weights: ScoringWeights) -> tuple[float, ...]:
    """Each criterion's weighted, rounded contribution, in CRITERIA order."""
    return tuple(round(weight * value, DECIMALS) for weight, value in zip(weights.vector, raw, strict=True))


def total(parts: Sequence[float]) -> float:
    """The score the contributions add up to."""
    return round(math.fsum(parts), DECIMALS)


def score(visitor: VisitorProfile, host: HostProfile, cosine: float, weights: ScoringWeights) -> Scored:
    """The blended score of `host` for `visitor`, with its explanation."""
    parts = contributions(raw_criteria(visitor, host, cosine, weights.semantic_floor), weights)
    return Scored(score=total(parts), explanation=dict(zip(CRITERIA, parts, strict=True)))


def score_without_keywords(visitor: VisitorProfile, host: HostProfile, cosine: float, weights: ScoringWeights) -> float:
    """The score before the keyword criterion, unrounded: with `weights.keywords` added, an upper bound."""
    w = weights
    return (
        w.semantic * semantic_value(cosine, w.semantic_floor)
        + w.ecosystems * coverage(visitor.ecosystems, host.ecosystems)
        + w.topics * coverage(visitor.topics, host.topics)
        + w.activities * coverage(visitor.activities, host.activities)
        + (w.preferred_country if host.country in visitor.preferred_countries else 0.0)
    )


_POPCOUNT = np.array([bin(value).count("1") for value in range(1 << 14)], dtype=np.float32)


def structured_bounds(
    visitor: VisitorProfile,
    visitor_masks: tuple[int, int, int],
    host_masks: np.ndarray,
    preferred: np.ndarray,
    cosines: np.ndarray,
    weights: ScoringWeights,
) -> np.ndarray:
    """For many hosts at once: each one's exact score apart from keywords, plus the most keywords could add.

    `host_masks` holds one row (ecosystems, topics, activities bit masks) per host, `preferred` whether each
    host is in one of the visitor's preferred countries, `cosines` each host's similarity. The value is never
    below the host's score, and equals it when all the visitor's keywords match.
    """
    bounds = weights.semantic * semantic_values(cosines, weights.semantic_floor)
    for column, (wanted, weight) in enumerate(
        zip(visitor_masks, (weights.ecosystems, weights.topics, weights.activities), strict=True)
    ):
        if wanted and weight:
            bounds = bounds + weight * _POPCOUNT[host_masks[:, column] & wanted] / _POPCOUNT[wanted]
    bounds = bounds + weights.preferred_country * preferred
    if visitor.keywords:
        bounds = bounds + weights.keywords
    return bounds


def score_bound(cosine: float, weights: ScoringWeights) -> float:
    """The highest score any host with goals-to-expertise similarity `cosine` (or less) can reach."""
    return weights.semantic * semantic_value(cosine, weights.semantic_floor) + weights.non_semantic_total
