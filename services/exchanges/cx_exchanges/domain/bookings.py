"""What an accepted exchange takes up: the host's capacity on each of its days, and the visitor organisation's one
physical exchange.

Each is a ledger of bookings kept in one document (the host's, the visitor organisation's) and changed only
by a guarded write of the whole ledger, so two acceptances at once cannot both take the last places: the
second finds the ledger moved on, reads it again, and is refused. A booking is live while its exchange is
accepted or later; one of an exchange that is still being accepted stays live for a lease, after which a crash
between booking and accepting frees it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from cx_contracts.exchange import ExchangeState
from cx_contracts.questionnaire import DateRangeState

from cx_exchanges.domain.exchange import Exchange, Refusal


@dataclass(frozen=True)
class Booking:
    """What one exchange takes up: its days and its participants."""

    exchange_id: str
    start: date
    end: date
    participants: int
    booked_at: datetime

    @classmethod
    def of(cls, exchange: Exchange, now: datetime) -> Booking:
        """The booking an exchange makes when it is accepted."""
        return cls(exchange.id, exchange.dates.start, exchange.dates.end, exchange.participants, now)

    def overlaps(self, other: Booking) -> bool:
        """Whether the two share a day."""
        return self.start <= other.end and other.start <= self.end


def live(
    bookings: Sequence[Booking],
    states: Mapping[str, ExchangeState],
    *,
    now: datetime,
    lease: timedelta,
    today: date,
) -> list[Booking]:
    """The bookings that still count: of exchanges accepted or later, or being accepted for less than `lease`.

    Bookings that ended before today are dropped too: no new exchange starts before tomorrow."""
    kept = []
    for booking in bookings:
        state = states.get(booking.exchange_id)
        counts = (state is not None and state.books) or (
            state is ExchangeState.REQUESTED and now - booking.booked_at < lease
        )
        if counts and booking.end >= today:
            kept.append(booking)
    return kept


def host_bookings_with(bookings: Sequence[Booking], new: Booking, capacity: int) -> list[Booking]:
    """The host's bookings with `new`, if on no day its participants and those already booked exceed `capacity`."""
    others = [b for b in bookings if b.exchange_id != new.exchange_id]
    for day in DateRangeState(start=new.start, end=new.end).days():
        taken = sum(b.participants for b in others if b.start <= day <= b.end)
        if taken + new.participants > capacity:
            raise Refusal(
                "conflict",
                f"The host is full on {day.isoformat()}: {taken} of its {capacity} places are taken by accepted "
                f"exchanges, and this one brings {new.participants}.",
            )
    return [*others, new]


def visitor_bookings_with(bookings: Sequence[Booking], new: Booking) -> list[Booking]:
    """The visitor organisation's physical exchange, if it has none yet: a visitor visits once."""
    others = [b for b in bookings if b.exchange_id != new.exchange_id]
    if others:
        raise Refusal(
            "conflict",
            "The visiting organisation already has an accepted exchange: a visitor visits once (a virtual exchange "
            "would not count).",
        )
    return [replace(new)]


def without(bookings: Sequence[Booking], exchange_id: str) -> list[Booking]:
    """The bookings less the one of `exchange_id` (withdrawn, or its acceptance did not go through)."""
    return [b for b in bookings if b.exchange_id != exchange_id]
