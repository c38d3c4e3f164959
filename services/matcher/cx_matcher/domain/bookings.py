"""The bookings the matcher holds: which exchanges take up which host's capacity on which days.

They come from the exchange topic (entrypoints/exchange_reader.py), whose records carry an exchange's state after
each step, so the latest revision of an exchange says what it books. An accepted or agreed exchange holds its
participants of the host's capacity on each of its days (physical or virtual, as the exchanges service books
them); a requested, declined or withdrawn one holds nothing; a completed one is past (its report is filed after
its end date, and a visitor's window counts from today). How much of a visitor's window is taken is in rules.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from cx_contracts.events import ExchangeStep
from cx_contracts.exchange import ExchangeState

HOLDING = frozenset({ExchangeState.ACCEPTED, ExchangeState.AGREED})


@dataclass(frozen=True, slots=True)
class Booking:
    """What one exchange holds of its host's capacity: its participants on each day from start to end."""

    exchange_id: UUID
    start: date
    end: date
    participants: int


def booking_of(step: ExchangeStep) -> Booking | None:
    """What an exchange holds after this step: a booking while accepted or agreed, else nothing."""
    if step.state not in HOLDING:
        return None
    return Booking(step.exchange_id, step.dates.start, step.dates.end, step.participants)


class Bookings:
    """Every exchange's latest step as the host capacity it holds, per host; and which hosts' room changed when."""

    def __init__(self) -> None:
        self._revisions: dict[UUID, int] = {}
        self._hosts: dict[UUID, UUID] = {}  # exchange -> its host
        self._by_host: dict[UUID, dict[UUID, Booking]] = {}
        self._changed_at: dict[UUID, int] = {}  # host -> `changes` when its room last changed
        self._freed: set[UUID] = set()
        self.changes = 0

    def __len__(self) -> int:
        return sum(len(held) for held in self._by_host.values())

    def of_host(self, host_id: UUID) -> Sequence[Booking]:
        """The bookings holding the host's capacity (none: an empty tuple)."""
        held = self._by_host.get(host_id)
        return tuple(held.values()) if held else ()

    def room_changed_since(self, changes: int) -> set[UUID]:
        """The hosts whose room changed after `changes` (a value of `self.changes`)."""
        return {host_id for host_id, at in self._changed_at.items() if at > changes}

    def freed(self) -> set[UUID]:
        """The hosts that ever got room back (an exchange withdrawn, moved or smaller): they may enter lists again."""
        return set(self._freed)

    def version_of(self, host_id: UUID) -> str:
        """The host's bookings in words that every replica holding the same steps writes alike (for run ids)."""
        return ";".join(
            f"{b.exchange_id}:{b.start}:{b.end}:{b.participants}"
            for b in sorted(self.of_host(host_id), key=lambda b: str(b.exchange_id))
        )

    def apply(self, steps: Iterable[ExchangeStep]) -> set[UUID]:
        """Take in exchange steps; a step not above the exchange's revision held is stale and changes nothing.

        Returns the hosts whose room changed.
        """
        changed: set[UUID] = set()
        for step in steps:
            if step.revision <= self._revisions.get(step.exchange_id, 0):
                continue
            self._revisions[step.exchange_id] = step.revision
            before_host = self._hosts.get(step.exchange_id)
            before = None if before_host is None else self._by_host[before_host].pop(step.exchange_id, None)
            after = booking_of(step)
            if after is not None:
                self._hosts[step.exchange_id] = step.host_id
                self._by_host.setdefault(step.host_id, {})[step.exchange_id] = after
            else:
                self._hosts.pop(step.exchange_id, None)
            if before_host is not None and not self._by_host[before_host]:
                del self._by_host[before_host]
            if before == after and (after is None or before_host == step.host_id):
                continue
            if before is not None and before_host is not None:
                if after is None or before_host != step.host_id or not _within(after, before):
                    self._freed.add(before_host)
                changed.add(before_host)
            if after is not None:
                changed.add(step.host_id)
        for host_id in changed:
            self.changes += 1
            self._changed_at[host_id] = self.changes
        return changed


def _within(inner: Booking, outer: Booking) -> bool:
    """Whether `inner` holds no day or participant that `outer` did not (so it frees nothing)."""
    return outer.start <= inner.start and inner.end <= outer.end and inner.participants <= outer.participants
