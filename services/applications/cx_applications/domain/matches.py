"""Which run of the matcher is an application's latest.

Runs can arrive late or twice (Kafka redelivers; a relay may publish again): an application keeps the run
that happened last, ordered by when it happened and then by run id, so every replica and every replay
keeps the same one, and a repeat of the stored run changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime


def run_order(occurred_at: datetime, match_run_id: str) -> str:
    """A text that sorts runs the way they happened: UTC time to the microsecond, then the run id."""
    return f"{occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{match_run_id}"
