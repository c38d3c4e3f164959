"""The latest ranked hosts of an application, as the matcher last found them.

Runs can arrive late or twice (Kafka redelivers; a relay may publish again): an application keeps the run
that happened last, ordered by when it happened and then by run id, so every replica and every replay
keeps the same one, and a repeat of the stored run changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cx_contracts.events import MatchFound


def run_order(occurred_at: datetime, match_run_id: str) -> str:
    """A text that sorts runs the way they happened: UTC time to the microsecond, then the run id."""
    return f"{occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{match_run_id}"


def latest_matches_document(event: MatchFound) -> dict[str, Any]:
    """What is kept of a MatchFound: the run, its trigger, model and time, and the ranked hosts."""
    return {
        "run_order": run_order(event.occurred_at, str(event.match_run_id)),
        "event_id": str(event.event_id),
        "match_run_id": str(event.match_run_id),
        "application_revision": event.revision,
        "trigger": event.trigger,
        "model_version": event.model_version,
        "computed_at": event.occurred_at,
        "matches": [
            {"host_id": str(match.host_id), "rank": match.rank, "score": match.score,
             "explanation": dict(match.explanation)}
            for match in event.matches
        ],
    }
