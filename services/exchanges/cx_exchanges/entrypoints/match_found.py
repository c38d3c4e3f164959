"""Where the matcher's runs enter: each application's latest proposed hosts, which a visitor may ask."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from cx_contracts.events import MatchFound
from cx_contracts.topics import MATCH_FOUND, ConsumerGroups
from cx_kit.kafka import contract_decoder
from cx_kit.settings import ServiceSettings

from cx_exchanges.handlers import Exchanges

DESCRIPTION = (
    "Keeps each application's latest proposed hosts: a visitor may ask only those for an exchange. A run older "
    "than the kept one (by occurred_at, then match_run_id) and a redelivered run change nothing; a record that "
    "breaks the contract goes to the dead-letter topic."
)


def subscribe_match_found(broker: KafkaBroker, settings: ServiceSettings, exchanges: Exchanges) -> None:
    """Register the match-found subscriber (group ConsumerGroups.EXCHANGES_MATCHES, in the namespace)."""

    @broker.subscriber(
        settings.topic(MATCH_FOUND),
        group_id=settings.topic_namespace + ConsumerGroups.EXCHANGES_MATCHES,
        auto_offset_reset="earliest",
        decoder=contract_decoder(MatchFound),
        title=f"{settings.topic(MATCH_FOUND)}:proposed-hosts",
        description=DESCRIPTION,
    )
    async def on_match_found(run: MatchFound) -> None:
        await exchanges.on_match_found(run)
