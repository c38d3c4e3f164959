"""Which run of the matcher is an application's latest.

Runs can arrive late or twice (Kafka redelivers; a relay may publish again; a replica that just lost a
partition may still publish a run of the revision it held): an application keeps the run of its highest
revision, among those the one that happened last, then by run id, so every replica and every replay keeps the
same one, a run of an older revision never replaces a newer revision's, and a repeat of the stored run changes
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime


def run_order(revision: int, occurred_at: datetime, match_run_id: str) -> str:
    """A text that sorts runs by application revision, then the way they happened (UTC time to the
    microsecond), then by run id."""
    # The leading letter sorts above the orders stored before the revision led them (they begin with a year),
    # so the first run kept in this form replaces them.
    return f"r{revision:012d}|{occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{match_run_id}"
