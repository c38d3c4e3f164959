"""Who has been introduced to whom: a visitor hears of each host once, and a host of each visitor once.

Re-matching publishes a visitor's whole list again on every run (a host joined the catalogue, the
application was revised), so a run says nothing about what the visitor has heard already. The notifier
keeps, per application, which run first proposed each host. A run then introduces only the hosts nobody
proposed before: those are the hosts its visitor mail names, and the hosts that are told about the
visitor. The application's first run with hosts is its *first list*, mailed at once; the hosts later runs
introduce wait for the visitor's digest (cx_notifier.domain.ledger.plan_run).

The record only grows, and the first run recorded for a host stays its introducer. So a run asked about
again (a redelivered record, a replay) gets the same answer, and of two runs recorded at the same moment
exactly one introduces each host.
"""

from __future__ import annotations

from dataclasses import dataclass

from cx_contracts.events import MatchFound


@dataclass(frozen=True)
class Introduction:
    """The run that first proposed a host to a visitor."""

    host_id: str
    match_run_id: str


@dataclass(frozen=True)
class Introductions:
    """One application's record: the run of its first list, and every introduction in the order recorded."""

    first_run: str | None = None
    introduced: tuple[Introduction, ...] = ()

    def to_record(self, match: MatchFound) -> list[Introduction]:
        """What recording `match` adds: its hosts that no run proposed to the visitor before, in rank order."""
        known = {introduction.host_id for introduction in self.introduced}
        run = str(match.match_run_id)
        return [Introduction(str(m.host_id), run) for m in match.matches if str(m.host_id) not in known]

    def recorded(self, match: MatchFound) -> Introductions:
        """The record once `match` is recorded (what the store's adding update makes of it)."""
        added = self.to_record(match)
        if not added:
            return self
        return Introductions(self.first_run or str(match.match_run_id), self.introduced + tuple(added))

    def introduced_by(self, match: MatchFound) -> frozenset[str]:
        """The hosts `match` introduced: those whose first recorded introduction is this run."""
        first: dict[str, str] = {}
        for introduction in self.introduced:
            first.setdefault(introduction.host_id, introduction.match_run_id)
        run = str(match.match_run_id)
        return frozenset(host for host, introducer in first.items() if introducer == run)

    def is_first_list(self, match: MatchFound) -> bool:
        """Whether `match` is the application's first run with hosts, which its visitor gets at once."""
        return self.first_run == str(match.match_run_id)
