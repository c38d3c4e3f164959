"""Which records of a host or an application count: only those above the highest revision already held.

A compacted topic can carry an older revision after a newer one (a second outbox relay publishing entries
the first one already sent, a redelivery), tombstones included. The matcher keeps, per host and per
application, the highest revision it has seen, also once withdrawn, and ignores any record whose revision is
not above it: a stale submission after a tombstone does not bring a host or an application back, and a stale
submission does not replace a newer one. A tombstone that lost its headers has no revision; it still removes
what is held, and what is held stays the highest revision seen.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

RecordT = TypeVar("RecordT")
KeyT = TypeVar("KeyT", bound=Hashable)


def supersedes(revision: int | None, held: int | None) -> bool:
    """Whether a record at `revision` replaces what is held at `held` (None: nothing held, or no revision)."""
    return held is None or revision is None or revision > held


def newest_records(
    records: Iterable[RecordT],
    *,
    key: Callable[[RecordT], KeyT],
    revision: Callable[[RecordT], int | None],
    held: Callable[[KeyT], int | None],
) -> dict[KeyT, tuple[RecordT, int | None]]:
    """Per key, the record that decides its state, read in order against the revision `held` before them, with
    the highest revision seen once it is applied (for a tombstone without a revision: the one it removed)."""
    chosen: dict[KeyT, tuple[RecordT, int | None]] = {}
    for record in records:
        at = key(record)
        highest = chosen[at][1] if at in chosen else held(at)
        record_revision = revision(record)
        if supersedes(record_revision, highest):
            chosen[at] = (record, highest if record_revision is None else record_revision)
    return chosen
