"""Where match-found records enter the notifier, and where NotificationSent leaves (as the AsyncAPI shows it)."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage as RecordMessage
from faststream.kafka.message import KafkaMessage

from cx_contracts.codec import parse_event, read_event_headers
from cx_contracts.errors import ContractError
from cx_contracts.events import MatchFound, NotificationSent
from cx_contracts.topics import MATCH_FOUND, NOTIFICATION_SENT, ConsumerGroups

from cx_notifier.handlers.mails import Notifier
from cx_notifier.settings import Settings

MATCH_FOUND_DESCRIPTION = (
    "The notifier introduces the parties of every match run to each other, once: the visitor gets its first "
    "list at once (its proposed hosts: name, country, why they fit, a catalogue link), and the hosts later runs "
    "add in one digest per period; each host is told once about a visitor organisation that may contact it. "
    "Contacts are read from the catalogue and applications services at send time. At most one mail per ledger "
    "entry: a MongoDB ledger records the intent before sending and the outcome after. SMTP failures are "
    "retried with backoff; after the configured attempts the record goes to the dead-letter topic "
    "(`<topic>.dlq`) and the ledger's resume sweep sends what was planned once the relay is back."
)
NOTIFICATION_SENT_DESCRIPTION = (
    "One NotificationSent per mail the relay accepted (match proposals and digests), published through the "
    "ledger's outbox: at least once, with an event_id derived from the ledger entry, so consumers can drop "
    "repeats. Keyed by recipient_id (host_id or application_id); never carries an address."
)


async def decode_match_found(message: KafkaMessage, original_decoder: Any = None) -> MatchFound:
    """Read a record with the contract's own reader (headers, upcasters, key check); a bad one is permanent."""
    record = message.raw_message
    if isinstance(record, tuple):  # only a batch subscriber gets several; this one reads them one by one
        raise TypeError("the match-found subscriber takes one record at a time")
    event = parse_event(record.topic, record.value, record.headers, key=record.key)
    if not isinstance(event, MatchFound):
        raise ContractError(f"{record.topic}: expected a match-found event, got {event.event_type}")
    return event


def register_match_found(broker: KafkaBroker, settings: Settings, notifier: Notifier) -> None:
    """Subscribe the notifier to match-found (group ConsumerGroups.NOTIFIER_MATCHES, in the namespace)."""

    @broker.subscriber(
        settings.topic(MATCH_FOUND),
        group_id=settings.consumer_group(ConsumerGroups.NOTIFIER_MATCHES),
        # A notifier deployed after the matcher ran still mails every retained run; the ledger drops repeats.
        auto_offset_reset="earliest",
        max_poll_interval_ms=int(settings.kafka_max_poll_interval_s * 1000),
        decoder=decode_match_found,
        title="notifier.match-found",
        description=MATCH_FOUND_DESCRIPTION,
    )
    async def on_match_found(match: MatchFound, message: RecordMessage) -> None:
        # The record's trace context (already checked by the decoder); NotificationSent continues it.
        await notifier.on_match_found(match, read_event_headers(message.headers).traceparent)

    # The outbox relay publishes these with the broker's durable producer; registered so the AsyncAPI
    # document shows what the notifier publishes.
    broker.publisher(
        settings.topic(NOTIFICATION_SENT),
        title="notifier.notification-sent",
        description=NOTIFICATION_SENT_DESCRIPTION,
        schema=NotificationSent,
    )
