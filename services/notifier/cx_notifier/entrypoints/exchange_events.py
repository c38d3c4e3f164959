"""Where the exchanges' steps enter the notifier: each step mailed to the side(s) it concerns, once."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage as RecordMessage

from cx_contracts.codec import read_event_headers
from cx_contracts.events import EXCHANGE_STEPS, ExchangeEvent
from cx_contracts.topics import EXCHANGE_EVENTS, ConsumerGroups
from cx_kit.kafka import contract_decoder

from cx_notifier.handlers.mails import Notifier
from cx_notifier.settings import Settings

EXCHANGE_EVENTS_DESCRIPTION = (
    "The notifier mails each step of an exchange to the side(s) it concerns: a request to the host, an acceptance "
    "to both with each other's contact, a decline to the visitor, a withdrawal to the other side, an agreement "
    "(with its grant) and a completion to both. Contacts are read at send time; at most one mail per (exchange, "
    "revision, recipient), from the same ledger as the proposals; never held back by the proposals' cap."
)


def register_exchange_events(broker: KafkaBroker, settings: Settings, notifier: Notifier) -> None:
    """Subscribe the notifier to the exchange events (group ConsumerGroups.NOTIFIER_EXCHANGES, in the namespace)."""

    @broker.subscriber(
        settings.topic(EXCHANGE_EVENTS),
        group_id=settings.consumer_group(ConsumerGroups.NOTIFIER_EXCHANGES),
        # A notifier deployed after some steps still tells of every retained one; the ledger drops repeats.
        auto_offset_reset="earliest",
        max_poll_interval_ms=int(settings.kafka_max_poll_interval_s * 1000),
        decoder=contract_decoder(*EXCHANGE_STEPS),
        title="notifier.exchange-events",
        description=EXCHANGE_EVENTS_DESCRIPTION,
    )
    async def on_exchange_step(step: ExchangeEvent, message: RecordMessage) -> None:
        await notifier.on_exchange_step(step, read_event_headers(message.headers).traceparent)
