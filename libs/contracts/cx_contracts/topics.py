"""Kafka topic and consumer-group names: the one list every service, script and test reads.

Names follow `cx.<owner>.<event>.v<major>`; a breaking change makes a new major topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEAD_LETTER_SUFFIX = ".dlq"
THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000
SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000
PARTITIONS = 6

HOST_ANSWERS = "cx.catalogue.host-answers.v1"
VISITOR_ANSWERS = "cx.applications.visitor-answers.v1"
MATCH_FOUND = "cx.matcher.match-found.v1"
NOTIFICATION_SENT = "cx.notifier.notification-sent.v1"
# One topic for every step of an exchange, so a consumer reads them in order per exchange.
EXCHANGE_EVENTS = "cx.exchanges.exchange-events.v1"


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the platform creates it: name, what its key is, and its broker-side config."""

    name: str
    key: str
    config: dict[str, str] = field(default_factory=dict)
    partitions: int = PARTITIONS

    @property
    def dead_letter(self) -> TopicSpec:
        """The topic's dead-letter twin: same key, delete policy, kept 30 days."""
        return TopicSpec(
            name=dead_letter_topic(self.name),
            key=self.key,
            config={"cleanup.policy": "delete", "retention.ms": str(THIRTY_DAYS_MS)},
            partitions=self.partitions,
        )


def dead_letter_topic(topic: str) -> str:
    """Name of the dead-letter topic of `topic`."""
    return topic + DEAD_LETTER_SUFFIX


def source_topic(topic: str) -> str:
    """The topic a dead-letter topic belongs to; a source topic's own name."""
    return topic.removesuffix(DEAD_LETTER_SUFFIX)


_DELETE_AFTER_30_DAYS = {"cleanup.policy": "delete", "retention.ms": str(THIRTY_DAYS_MS)}
_COMPACT = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", "delete.retention.ms": str(SEVEN_DAYS_MS)}
# Each exchange event carries the exchange's state, so the latest record per exchange is enough to rebuild from
# (the matcher's capacity); compaction waits a week, so a consumer less than a week behind still reads every step.
_COMPACT_AFTER_A_WEEK = {"cleanup.policy": "compact", "min.compaction.lag.ms": str(SEVEN_DAYS_MS)}

EVENT_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(HOST_ANSWERS, key="host_id", config=dict(_COMPACT)),
    TopicSpec(VISITOR_ANSWERS, key="application_id", config=dict(_COMPACT)),
    TopicSpec(MATCH_FOUND, key="application_id", config=dict(_DELETE_AFTER_30_DAYS)),
    TopicSpec(NOTIFICATION_SENT, key="recipient_id", config=dict(_DELETE_AFTER_30_DAYS)),
    TopicSpec(EXCHANGE_EVENTS, key="exchange_id", config=dict(_COMPACT_AFTER_A_WEEK)),
)

ALL_TOPICS: tuple[TopicSpec, ...] = EVENT_TOPICS + tuple(t.dead_letter for t in EVENT_TOPICS)


class ConsumerGroups:
    """Consumer-group ids. Matcher replicas share the visitor group; each replica reads hosts on its own."""

    APPLICATIONS_MATCHES = "cx-applications.match-found"
    MATCHER_VISITORS = "cx-matcher.visitor-answers"
    NOTIFIER_MATCHES = "cx-notifier.match-found"
    NOTIFIER_EXCHANGES = "cx-notifier.exchange-events"
    EXCHANGES_MATCHES = "cx-exchanges.match-found"
