"""The scheme's hard rules: a host that breaks one is never proposed, whatever its score.

DESIGN.md: host in another country, not in an excluded country, a shared language, a shared format, dates
that overlap for the requested days, capacity left. Two readings are made here and documented in
docs/matching-quality.md:

- dates: the exchange is one contiguous stay, so some period that the host is available (touching ranges
  joined; none given means any time) and the visitor can travel (no window means any time), counted from
  `as_of` on, must hold at least the requested working days; and those days must not exceed the host's
  `max_days`;
- capacity: a host's `capacity` is the most visiting participants it can receive at the same time, and an
  accepted or agreed exchange holds its participants of it on each of its calendar days, weekends included, as
  the exchanges service books them (domain/bookings.py). The visitor's stay is some run of calendar days inside
  one common period (above) holding at least its requested working days; a host has room for the visitor when
  some such stay has, on each of its days, room for the visitor's `participants` next to what is booked that
  day. `taken` is what that leaves to check against the capacity alone: the fewest participants, over the
  stays the visitor could make, that are booked on the busiest day of the stay (`taken_for_window`); the host
  is full for the window when `participants + taken > capacity`. It is 0 with no bookings, and when no stay
  fits at all (then the dates rule is the one broken). A stay longer than the requested days holds a shorter
  one, so only the shortest stays matter, but the check reads the free runs between booked days instead of
  listing stays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

import numpy as np

from cx_contracts.questionnaire import working_days
from cx_contracts.scalars import EARLIEST_DATE, LATEST_DATE

from cx_matcher.domain.bookings import Booking
from cx_matcher.domain.profiles import HostProfile, Period, VisitorProfile


class Rule(StrEnum):
    """One hard rule; its value names it in logs, tests and the evaluation report."""

    OTHER_COUNTRY = "other_country"
    NOT_EXCLUDED = "not_excluded"
    SHARED_LANGUAGE = "shared_language"
    SHARED_FORMAT = "shared_format"
    LENGTH_ACCEPTED = "length_accepted"
    DATES_OVERLAP = "dates_overlap"
    CAPACITY_LEFT = "capacity_left"


_ANY_TIME: Period = (EARLIEST_DATE, LATEST_DATE)


def common_periods(visitor: VisitorProfile, host: HostProfile, as_of: date | None = None) -> Iterator[Period]:
    """Periods in which the host receives and the visitor can travel, from `as_of` on (None: no lower bound)."""
    window = visitor.travel_window or _ANY_TIME
    start_floor = window[0] if as_of is None else max(window[0], as_of)
    for host_start, host_end in host.availability or (_ANY_TIME,):
        start, end = max(host_start, start_floor), min(host_end, window[1])
        if start <= end:
            yield start, end


def dates_fit(visitor: VisitorProfile, host: HostProfile, as_of: date | None = None) -> bool:
    """Whether one common period holds the visitor's requested working days."""
    return any(working_days(start, end) >= visitor.days for start, end in common_periods(visitor, host, as_of))


def taken_for_window(
    visitor: VisitorProfile, host: HostProfile, booked: Sequence[Booking], as_of: date | None = None
) -> int:
    """The participants `booked` take of the host for the visitor's window: the least, over the stays the visitor
    could make, of the most booked on one day of the stay (0 with no bookings or no stay)."""
    if not booked:
        return 0
    periods = list(common_periods(visitor, host, as_of))
    if not periods:
        return 0
    segments = booked_days(booked)
    for ceiling in sorted({0, *(level for _, _, level in segments)}):
        busier = [(start, end) for start, end, level in segments if level > ceiling]
        if any(_holds_stay(period, busier, visitor.days) for period in periods):
            return ceiling
    return 0  # unreachable: the busiest ceiling leaves every period free


_DAY = timedelta(days=1)


def booked_days(booked: Iterable[Booking]) -> list[tuple[date, date, int]]:
    """The participants booked per day, as runs of days (first, last, participants) with some booked, in order."""
    deltas: Counter[date] = Counter()
    for booking in booked:
        deltas[booking.start] += booking.participants
        deltas[booking.end + _DAY] -= booking.participants
    points = sorted(deltas)
    runs, level = [], 0
    for here, following in pairwise(points):
        level += deltas[here]
        if level > 0:
            runs.append((here, following - _DAY, level))
    return runs


def _holds_stay(period: Period, busy: Sequence[tuple[date, date]], days: int) -> bool:
    """Whether the days of `period` outside the `busy` runs (in order) hold `days` working days in a row."""
    start, end = period
    for busy_start, busy_end in busy:
        if busy_end < start:
            continue
        if busy_start > end:
            break
        if busy_start > start and working_days(start, busy_start - _DAY) >= days:
            return True
        start = busy_end + _DAY
        if start > end:
            return False
    return working_days(start, end) >= days


def broken_rules(
    visitor: VisitorProfile, host: HostProfile, *, as_of: date | None = None, taken: int = 0
) -> list[Rule]:
    """Every hard rule the pair breaks (empty when the host may be proposed)."""
    broken = []
    if host.country == visitor.country:
        broken.append(Rule.OTHER_COUNTRY)
    if host.country in visitor.excluded_countries:
        broken.append(Rule.NOT_EXCLUDED)
    if host.languages.isdisjoint(visitor.languages):
        broken.append(Rule.SHARED_LANGUAGE)
    if host.formats.isdisjoint(visitor.formats):
        broken.append(Rule.SHARED_FORMAT)
    if visitor.days > host.max_days:
        broken.append(Rule.LENGTH_ACCEPTED)
    if not dates_fit(visitor, host, as_of):
        broken.append(Rule.DATES_OVERLAP)
    if visitor.participants + taken > host.capacity:
        broken.append(Rule.CAPACITY_LEFT)
    return broken


FORMAT_BITS = {"physical": 1, "virtual": 2}


@dataclass(frozen=True)
class RuleColumns:
    """The cheap hard-rule answers of many hosts as arrays, one entry per host (see may_fit)."""

    countries: np.ndarray  # a number per country
    formats: np.ndarray  # FORMAT_BITS mask
    language_bits: np.ndarray  # bit (language number % 64) per language: equal bits may be different languages
    max_days: np.ndarray
    capacity: np.ndarray


def may_fit(
    visitor: VisitorProfile,
    columns: RuleColumns,
    *,
    country_number: Callable[[str], int | None],
    language_bit: Callable[[str], int],
) -> np.ndarray:
    """For many hosts at once: False where a host surely breaks a rule other than the dates.

    Capacity is checked against the participants alone: what accepted exchanges take can only lower it.

    True is only a "maybe" (two languages can share a bit): fits() still decides each host that passes.
    """
    ok = (columns.max_days >= visitor.days) & (columns.capacity >= visitor.participants)
    ok &= (columns.formats & _format_mask(visitor.formats)) != 0
    ok &= (columns.language_bits & np.uint64(_bits(visitor.languages, language_bit))) != 0
    own = country_number(visitor.country)
    if own is not None:
        ok &= columns.countries != own
    excluded = [n for n in map(country_number, visitor.excluded_countries) if n is not None]
    if excluded:
        ok &= ~np.isin(columns.countries, excluded)
    return ok


def _format_mask(formats: Iterable[str]) -> int:
    return sum(FORMAT_BITS[f] for f in formats)


def _bits(languages: Iterable[str], language_bit: Callable[[str], int]) -> int:
    bits = 0
    for language in languages:
        bits |= language_bit(language)
    return bits


def fits_apart_from_dates(visitor: VisitorProfile, host: HostProfile, *, taken: int = 0) -> bool:
    """Every hard rule but the dates (the costliest to check) holds."""
    return (
        host.country != visitor.country
        and host.country not in visitor.excluded_countries
        and not host.languages.isdisjoint(visitor.languages)
        and not host.formats.isdisjoint(visitor.formats)
        and visitor.days <= host.max_days
        and visitor.participants + taken <= host.capacity
    )


def has_room(visitor: VisitorProfile, host: HostProfile, booked: Sequence[Booking], as_of: date | None = None) -> bool:
    """Whether what `booked` holds leaves the host room for the visitor's participants in one stay of its window."""
    return visitor.participants + taken_for_window(visitor, host, booked, as_of) <= host.capacity


def fits(visitor: VisitorProfile, host: HostProfile, *, as_of: date | None = None, taken: int = 0) -> bool:
    """True when the pair breaks no hard rule; cheapest checks first, since most candidates fail one."""
    return fits_apart_from_dates(visitor, host, taken=taken) and dates_fit(visitor, host, as_of)
