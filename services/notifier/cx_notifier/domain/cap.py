"""The notifier's periods: a recipient gets at most so many proposal mails in one, and one digest after it.

One mechanism holds back what must not go out at once: the entry is deferred to its recipient's digest of
the period it was planned in, and the digest goes out when that period ends. A host's proposals wait there
once it is over its cap; a visitor's hosts after its first list always wait there (see plan_run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class RecipientCap:
    """At most `mails` proposal mails per recipient in each period of `period_s` seconds, the digest's period.

    Periods are fixed windows aligned to the Unix epoch (with one day, UTC calendar days), numbered, so
    every replica and every restart agrees on which period a moment belongs to without storing any.
    """

    mails: int
    period_s: float

    def period_of(self, moment: datetime) -> int:
        """Number of the period `moment` falls in."""
        return math.floor(moment.timestamp() / self.period_s)

    def period_start(self, period: int) -> datetime:
        """When period `period` begins (UTC)."""
        return datetime.fromtimestamp(period * self.period_s, UTC)

    def period_end(self, period: int) -> datetime:
        """When period `period` ends (UTC), which is when its digest may go out."""
        return self.period_start(period) + timedelta(seconds=self.period_s)

    def allows(self, already_counted: int) -> bool:
        """Whether one more mail fits, given how many the recipient has had (or has pending) this period."""
        return already_counted < self.mails
