"""Bookings: what accepted exchanges hold of a host's capacity, and when a host is full for a visitor's window."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cx_contracts import examples
from cx_contracts.events import (
    ExchangeAccepted,
    ExchangeAgreed,
    ExchangeCompleted,
    ExchangeDeclined,
    ExchangeRequested,
    ExchangeWithdrawn,
)
from cx_contracts.questionnaire import working_days

from cx_matcher.domain.bookings import Booking, Bookings
from cx_matcher.domain.profiles import HostProfile, VisitorProfile, merge_periods
from cx_matcher.domain.rules import Rule, broken_rules, dates_fit, has_room, taken_for_window

pytestmark = pytest.mark.unit

AS_OF = date(2027, 1, 4)
MONDAY = date(2027, 3, 1)


def host(**changes: Any) -> HostProfile:
    profile = HostProfile.from_answers(uuid4(), 1, examples.host_organisation(0), examples.host_answers(0))
    return dataclasses.replace(profile, **{"availability": (), "max_days": 22, "capacity": 4, **changes})


def visitor(start: date, end: date, **changes: Any) -> VisitorProfile:
    profile = VisitorProfile.from_answers(uuid4(), 1, examples.visitor_organisation(0), examples.visitor_answers(0))
    return dataclasses.replace(profile, **{"travel_window": (start, end), "days": 5, "participants": 2, **changes})


def booking(start: date, end: date, participants: int) -> Booking:
    return Booking(uuid4(), start, end, participants)


def step(kind: Any, host_id: UUID, exchange_id: UUID, revision: int, **overrides: Any) -> Any:
    return examples.exchange_step(kind, exchange_id=exchange_id, revision=revision, host_id=host_id, **overrides)


# -- the bookings model ---------------------------------------------------------------------------------------------


def test_an_accepted_or_agreed_exchange_holds_its_hosts_capacity_and_a_withdrawn_one_frees_it() -> None:
    bookings, host_id, exchange_id = Bookings(), uuid4(), uuid4()
    assert bookings.apply([step(ExchangeRequested, host_id, exchange_id, 1)]) == set()
    assert bookings.of_host(host_id) == ()
    assert bookings.apply([step(ExchangeAccepted, host_id, exchange_id, 2)]) == {host_id}
    (held,) = bookings.of_host(host_id)
    assert (held.start, held.end, held.participants) == (MONDAY, MONDAY + timedelta(days=4), 2)
    assert bookings.apply([step(ExchangeAgreed, host_id, exchange_id, 3)]) == set()  # the same days held
    assert len(bookings) == 1 and bookings.freed() == set()
    withdrawn = step(ExchangeWithdrawn, host_id, exchange_id, 4, previous_state="agreed")
    assert bookings.apply([withdrawn]) == {host_id}
    assert bookings.of_host(host_id) == () and bookings.freed() == {host_id}


@pytest.mark.parametrize("last", [ExchangeDeclined, ExchangeCompleted])
def test_a_declined_or_completed_exchange_holds_nothing(last: Any) -> None:
    bookings, host_id, exchange_id = Bookings(), uuid4(), uuid4()
    before = ExchangeRequested if last is ExchangeDeclined else ExchangeAgreed
    bookings.apply([step(before, host_id, exchange_id, 1)])
    bookings.apply([step(last, host_id, exchange_id, 2)])
    assert bookings.of_host(host_id) == ()


def test_a_step_not_above_the_revision_held_changes_nothing() -> None:
    bookings, host_id, exchange_id = Bookings(), uuid4(), uuid4()
    withdrawn = step(ExchangeWithdrawn, host_id, exchange_id, 3)
    accepted = step(ExchangeAccepted, host_id, exchange_id, 2)
    bookings.apply([withdrawn])
    assert bookings.apply([accepted]) == set()  # read late (a replay): the withdrawal stands
    assert bookings.of_host(host_id) == ()


def test_room_changes_are_counted_per_host() -> None:
    bookings, first, second = Bookings(), uuid4(), uuid4()
    bookings.apply([step(ExchangeAccepted, first, uuid4(), 2)])
    mark = bookings.changes
    bookings.apply([step(ExchangeAccepted, second, uuid4(), 2)])
    assert bookings.room_changed_since(mark) == {second}
    assert bookings.room_changed_since(0) == {first, second}


def test_the_version_of_a_hosts_bookings_is_the_same_whatever_order_they_came_in() -> None:
    host_id, steps = uuid4(), [step(ExchangeAccepted, uuid4(), uuid4(), 2) for _ in range(3)]
    steps = [s.model_copy(update={"host_id": host_id}) for s in steps]
    one, other = Bookings(), Bookings()
    one.apply(steps)
    other.apply(reversed(steps))
    assert one.version_of(host_id) == other.version_of(host_id) != ""


# -- taken for a visitor's window --------------------------------------------------------------------------------------


def test_a_host_full_for_the_dates_breaks_the_capacity_rule_only_where_no_stay_has_room() -> None:
    full_week = [booking(MONDAY, MONDAY + timedelta(days=4), 3)]
    four = host(capacity=4)
    first_week = visitor(MONDAY, MONDAY + timedelta(days=4))
    taken = taken_for_window(first_week, four, full_week, AS_OF)
    assert taken == 3
    assert broken_rules(first_week, four, as_of=AS_OF, taken=taken) == [Rule.CAPACITY_LEFT]
    # Two weeks: the second is free, so the visitor still fits.
    two_weeks = visitor(MONDAY, MONDAY + timedelta(days=11))
    assert taken_for_window(two_weeks, four, full_week, AS_OF) == 0
    assert has_room(two_weeks, four, full_week, AS_OF)
    # One participant fits next to the three booked.
    assert has_room(visitor(MONDAY, MONDAY + timedelta(days=4), participants=1), four, full_week, AS_OF)


def test_a_booked_weekend_inside_the_stay_counts() -> None:
    # The stay of 5 working days from Wednesday spans a weekend that a Saturday-Sunday exchange fills.
    saturday = MONDAY + timedelta(days=5)
    weekend = [booking(saturday, saturday + timedelta(days=1), 4)]
    window = visitor(MONDAY + timedelta(days=2), MONDAY + timedelta(days=8))
    assert not has_room(window, host(capacity=4), weekend, AS_OF)
    assert has_room(window, host(capacity=6), weekend, AS_OF)


def test_bookings_outside_the_hosts_availability_or_before_the_matching_day_do_not_count() -> None:
    march = host(availability=((MONDAY, MONDAY + timedelta(days=11)),))
    window = visitor(MONDAY - timedelta(days=14), MONDAY + timedelta(days=30))
    before = [booking(MONDAY - timedelta(days=14), MONDAY - timedelta(days=1), 4)]
    assert taken_for_window(window, march, before, AS_OF) == 0
    week_two = [booking(MONDAY + timedelta(days=7), MONDAY + timedelta(days=11), 4)]
    assert taken_for_window(window, march, week_two, AS_OF) == 0  # the first week of March is free
    # Counted from Wednesday, the first week has 3 working days left: every stay reaches into the second.
    assert taken_for_window(window, march, week_two, MONDAY + timedelta(days=2)) == 4


def test_overlapping_bookings_add_up_day_by_day() -> None:
    a = booking(MONDAY, MONDAY + timedelta(days=2), 1)
    b = booking(MONDAY + timedelta(days=2), MONDAY + timedelta(days=4), 2)
    week = visitor(MONDAY, MONDAY + timedelta(days=4))
    assert taken_for_window(week, host(), [a, b], AS_OF) == 3  # Wednesday holds both


# -- against the slow obvious reading --------------------------------------------------------------------------------

HORIZON = 60


def brute_taken(v: VisitorProfile, h: HostProfile, booked: list[Booking], as_of: date) -> int:
    """The least, over every stay (first and last day) of enough working days, of its busiest day's bookings."""
    assert v.travel_window is not None

    def free(day: date) -> bool:
        in_window = v.travel_window is not None and v.travel_window[0] <= day <= v.travel_window[1]
        available = not h.availability or any(s <= day <= e for s, e in h.availability)
        return in_window and available and day >= as_of

    def booked_on(day: date) -> int:
        return sum(b.participants for b in booked if b.start <= day <= b.end)

    days = [MONDAY + timedelta(days=i) for i in range(HORIZON)]
    best: int | None = None
    for i, first in enumerate(days):
        for last in days[i:]:
            span = [first + timedelta(days=k) for k in range((last - first).days + 1)]
            if not all(free(day) for day in span) or working_days(first, last) < v.days:
                continue
            busiest = max(booked_on(day) for day in span)
            best = busiest if best is None else min(best, busiest)
    return 0 if best is None else best


offsets = st.integers(min_value=0, max_value=HORIZON - 1)
spans = st.tuples(offsets, st.integers(min_value=0, max_value=12))


def period(span: tuple[int, int]) -> tuple[date, date]:
    start = MONDAY + timedelta(days=span[0])
    return start, min(start + timedelta(days=span[1]), MONDAY + timedelta(days=HORIZON - 1))


@settings(max_examples=150, deadline=None)
@given(
    window=st.tuples(offsets, st.integers(min_value=0, max_value=40)),
    availability=st.lists(spans, max_size=3),
    booked=st.lists(st.tuples(spans, st.integers(min_value=1, max_value=4)), max_size=5),
    days=st.integers(min_value=1, max_value=8),
    participants=st.integers(min_value=1, max_value=5),
    capacity=st.integers(min_value=1, max_value=8),
    as_of_offset=st.integers(min_value=-3, max_value=20),
)
def test_taken_and_the_room_agree_with_every_stay_looked_at_day_by_day(
    window: tuple[int, int],
    availability: list[tuple[int, int]],
    booked: list[tuple[tuple[int, int], int]],
    days: int,
    participants: int,
    capacity: int,
    as_of_offset: int,
) -> None:
    v = visitor(*period(window), days=days, participants=participants)
    h = host(availability=merge_periods(period(span) for span in availability), capacity=capacity)
    bookings = [booking(*period(span), count) for span, count in booked]
    as_of = MONDAY + timedelta(days=as_of_offset)
    expected = brute_taken(v, h, bookings, as_of)
    assert taken_for_window(v, h, bookings, as_of) == expected
    # A host has room exactly when some stay fits with room on each of its days.
    room_somewhere = dates_fit(v, h, as_of) and participants + expected <= capacity
    assert (dates_fit(v, h, as_of) and has_room(v, h, bookings, as_of)) == room_somewhere
