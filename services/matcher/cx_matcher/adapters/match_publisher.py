"""Publishing MatchFound on cx.matcher.match-found.v1, keyed by application_id, with the contract headers."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker

from cx_contracts.events import MatchFound, event_headers, event_key, event_value, headers_as_text
from cx_contracts.topics import MATCH_FOUND

from cx_matcher.service import Publish
from cx_matcher.settings import Settings

DESCRIPTION = (
    "One MatchFound per matching run, keyed by application_id: the ranked hosts (best first, at most top_n), "
    "each with its score and an explanation {criterion: contribution} whose values sum to the score. Trigger "
    "new-application / revised-application answers a visitor record; new-host is published only for the "
    "applications whose list a new or revised host now enters. Delivery is at least once: match_run_id (and "
    "event_id) are derived from what triggered the run, so a repeated run carries the same ids; deduplicate "
    "on them."
)


def register_match_publisher(broker: KafkaBroker, settings: Settings) -> tuple[Publish, Any]:
    """Declare the MatchFound publisher; returns (publish function, FastStream publisher)."""
    publisher = broker.publisher(
        settings.topic(MATCH_FOUND), title="match-found", description=DESCRIPTION, schema=MatchFound
    )

    async def publish(event: MatchFound, traceparent: str | None) -> None:
        await publisher.publish(
            event_value(event), key=event_key(event), headers=headers_as_text(event_headers(event, traceparent))
        )

    return publish, publisher
