"""Publishing MatchFound on cx.matcher.match-found.v1, keyed by application_id, with the contract headers."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from cx_contracts.codec import event_headers, event_key, event_value, headers_as_text
from cx_contracts.events import MatchFound

DESCRIPTION = (
    "One MatchFound per matching run, keyed by application_id: the ranked hosts (best first, at most top_n), "
    "each with its score and an explanation {criterion: contribution} whose values sum to the score. Trigger "
    "new-application / revised-application answers a visitor record; new-host is published only for the "
    "applications whose list a new or revised host now enters. Delivery is at least once: match_run_id (and "
    "event_id) are derived from what triggered the run, so a repeated run carries the same ids; deduplicate "
    "on them."
)


class KafkaMatchPublisher:
    """The MatchFound publisher, declared on the broker (and so in the AsyncAPI document) when built."""

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._publisher = broker.publisher(topic, title="match-found", description=DESCRIPTION, schema=MatchFound)

    async def publish(self, event: MatchFound, traceparent: str | None) -> None:
        """Publish one run; returns once the broker has it (acks=all)."""
        await self._publisher.publish(
            event_value(event), key=event_key(event), headers=headers_as_text(event_headers(event, traceparent))
        )
