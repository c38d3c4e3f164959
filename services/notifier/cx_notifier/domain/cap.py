"""How many proposal mails a recipient gets per period before the rest waits for one digest."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class RecipientCap:
    """At most `mails` proposal mails per recipient in each period of `period_s` seconds.

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
