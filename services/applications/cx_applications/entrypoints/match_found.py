"""Where matches come back: the match-found subscriber decodes and checks each record, then hands it on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.kafka import KafkaBroker, KafkaMessage

from cx_contracts.errors import ContractError
from cx_contracts.events import MatchFound
from cx_contracts.topics import MATCH_FOUND, ConsumerGroups
from cx_kit.settings import ServiceSettings


def consumer_group(settings: ServiceSettings) -> str:
    """The service's match-found consumer group, in the deployment's namespace like its topics."""
    return settings.topic_namespace + ConsumerGroups.APPLICATIONS_MATCHES


def subscribe_match_found(
    broker: KafkaBroker, settings: ServiceSettings, on_run: Callable[[MatchFound], Awaitable[object]]
) -> None:
    """Register the match-found subscriber on `broker` (at-least-once; a broken record is dead-lettered)."""

    @broker.subscriber(
        settings.topic(MATCH_FOUND),
        group_id=consumer_group(settings),
        auto_offset_reset="earliest",
        title=f"{settings.topic(MATCH_FOUND)}:keep-latest",
        description="Keeps each application's latest ranked hosts, shown at GET "
        "/api/applications/{application_id}/matches. A run older than the stored one (by occurred_at, then "
        "match_run_id) and a redelivered run change nothing; a run for an unknown or withdrawn application is "
        "ignored; a record that breaks the contract goes to the dead-letter topic.",
    )
    async def on_match_found(event: MatchFound, message: KafkaMessage) -> None:
        record = message.raw_message
        key = None if isinstance(record, tuple) else record.key  # a tuple would be a batch, which is not used
        if key is not None and key.decode("utf-8", "replace") != str(event.application_id):
            raise ContractError(f"record key {key!r} differs from application_id {event.application_id}")
        await on_run(event)
