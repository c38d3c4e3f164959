"""What matching needs to know about a host or a visitor, in the form the rules and the score read fast.

A profile is built once from an event's answers (or a file line) and kept in memory and in snapshots: sets
instead of lists, keywords already normalised, availability merged into contiguous periods. Free text is
not kept; its embedding lives in the index. How profiles are stored is the adapters' business
(adapters/snapshots.py, adapters/open_applications.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import numpy as np

from cx_contracts.questionnaire import HostAnswersState, OrganisationState, VisitorAnswersState
from cx_contracts.vocabulary import Activity, Ecosystem, Topic

Period = tuple[date, date]
KeywordForm = tuple[str, ...]

_NON_WORD = re.compile(r"[^0-9a-z]+")


# Bit positions of the closed lists, for set arithmetic on many hosts at once (ranking bounds).
_ECOSYSTEM_BIT = {value.value: 1 << bit for bit, value in enumerate(Ecosystem)}
_TOPIC_BIT = {value.value: 1 << bit for bit, value in enumerate(Topic)}
_ACTIVITY_BIT = {value.value: 1 << bit for bit, value in enumerate(Activity)}


def answer_masks(ecosystems: Iterable[str], topics: Iterable[str], activities: Iterable[str]) -> tuple[int, int, int]:
    """Ecosystems, topics and activities as bit masks (one bit per value of each closed list)."""
    return (
        sum(_ECOSYSTEM_BIT[e] for e in ecosystems),
        sum(_TOPIC_BIT[t] for t in topics),
        sum(_ACTIVITY_BIT[a] for a in activities),
    )


def normalise_keyword(keyword: str) -> KeywordForm:
    """A keyword as comparable tokens: accents and case dropped, punctuation split, simple plurals singular.

    "Recycled Fibres" -> ("recycled", "fibre"); "CE-marking" -> ("ce", "marking"); "batteries" -> ("battery",).
    """
    folded = unicodedata.normalize("NFKD", keyword).encode("ascii", "ignore").decode().casefold()
    return tuple(_singular(token) for token in _NON_WORD.split(folded) if token)


def _singular(token: str) -> str:
    # A light English plural rule: enough for tags ("vouchers", "batteries"), never a full stemmer, which
    # would merge words organisations keep apart ("marketing" / "market").
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def normalise_keywords(keywords: Iterable[str]) -> tuple[KeywordForm, ...]:
    """Each keyword normalised, empty and repeated forms dropped, order kept."""
    forms: dict[KeywordForm, None] = {}
    for keyword in keywords:
        form = normalise_keyword(keyword)
        if form:
            forms.setdefault(form, None)
    return tuple(forms)


def merge_periods(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Sort date ranges and join those that overlap or touch, so a stay may run across two of them."""
    merged: list[Period] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class SharedAnswers:
    """What hosts and visitors both answer, read the same way for both."""

    country: str
    ecosystems: frozenset[str]
    topics: frozenset[str]
    activities: frozenset[str]
    languages: frozenset[str]
    formats: frozenset[str]
    keywords: tuple[KeywordForm, ...]


def _shared_answers(organisation: OrganisationState, answers: HostAnswersState | VisitorAnswersState) -> dict[str, Any]:
    """The SharedAnswers fields of an organisation and its answers."""
    return {
        "country": organisation.country,
        "ecosystems": frozenset(answers.ecosystems),
        "topics": frozenset(answers.topics),
        "activities": frozenset(answers.activities),
        "languages": frozenset(answers.languages),
        "formats": frozenset(answers.formats),
        "keywords": normalise_keywords(answers.keywords),
    }


@dataclass(frozen=True, slots=True)
class HostProfile(SharedAnswers):
    """A host's catalogue entry as the matcher reads it."""

    host_id: UUID
    revision: int
    availability: tuple[Period, ...]  # merged; empty means any time
    max_days: int
    capacity: int

    @classmethod
    def from_answers(
        cls, host_id: UUID, revision: int, organisation: OrganisationState, answers: HostAnswersState
    ) -> HostProfile:
        """The profile of a host's current answers."""
        return cls(
            host_id=host_id,
            revision=revision,
            **_shared_answers(organisation, answers),
            availability=merge_periods((period.start, period.end) for period in answers.availability),
            max_days=answers.max_days,
            capacity=answers.capacity,
        )


@dataclass(frozen=True, slots=True)
class VisitorProfile(SharedAnswers):
    """A visitor's application as the matcher reads it."""

    application_id: UUID
    revision: int
    preferred_countries: frozenset[str]
    excluded_countries: frozenset[str]
    days: int
    travel_window: Period | None  # None means any time
    participants: int

    @classmethod
    def from_answers(
        cls, application_id: UUID, revision: int, organisation: OrganisationState, answers: VisitorAnswersState
    ) -> VisitorProfile:
        """The profile of a visitor's current answers."""
        window = answers.travel_window
        return cls(
            application_id=application_id,
            revision=revision,
            **_shared_answers(organisation, answers),
            preferred_countries=frozenset(answers.preferred_countries),
            excluded_countries=frozenset(answers.excluded_countries),
            days=answers.days,
            travel_window=None if window is None else (window.start, window.end),
            participants=answers.participants,
        )


Position = tuple[int, int]  # (partition, offset) of the host record a profile was read from


@dataclass(frozen=True)
class HostChange:
    """One host record, as applied to the index: a new state (profile + vector) or a removal (profile None), at
    its revision (a new state's is its profile's; a removal's the tombstone's, None when it lost its headers)."""

    host_id: UUID
    profile: HostProfile | None
    vector: np.ndarray | None
    position: Position | None = None
    revision: int | None = None

    def __post_init__(self) -> None:
        if self.profile is not None:
            if self.revision not in (None, self.profile.revision):
                raise ValueError(f"host {self.host_id}: revision {self.revision} is not its profile's")
            object.__setattr__(self, "revision", self.profile.revision)


def _with_keywords(text: str, keywords: Sequence[str]) -> str:
    # The tags an organisation chose say in a few words what its text says at length; embedding them with
    # the text improved nDCG@10 on the evaluation set for the blend and for similarity alone
    # (docs/matching-quality.md).
    return f"{text}\nKeywords: {', '.join(keywords)}." if keywords else text


def host_text(answers: HostAnswersState) -> str:
    """The text of a host that is embedded: its expertise (what a visitor can learn there) and its keywords."""
    return _with_keywords(answers.expertise, answers.keywords)


def visitor_text(answers: VisitorAnswersState) -> str:
    """The text of a visitor that is embedded: its goals (what it wants to learn) and its keywords."""
    return _with_keywords(answers.goals, answers.keywords)
