"""The applications collection (MongoDB db `applications`): visitors' applications and their outbox."""

from __future__ import annotations

from collections.abc import Callable

from pymongo.asynchronous.database import AsyncDatabase

from cx_contracts.events import VisitorAnswersSubmitted, VisitorAnswersWithdrawn
from cx_kit.aggregates import OwnedAggregates, StateEvents

APPLICATIONS = "applications"
# What the service publishes of an application: its state after every change, a tombstone when withdrawn.
APPLICATION_EVENTS = StateEvents(VisitorAnswersSubmitted, VisitorAnswersWithdrawn)


class ApplicationRepository(OwnedAggregates):
    """Applications: owned, revised, withdrawn with their events (see cx_kit.aggregates)."""

    def __init__(
        self, database: AsyncDatabase, *, topic_namespace: str = "", after_write: Callable[[], None] | None = None
    ) -> None:
        super().__init__(
            database[APPLICATIONS], APPLICATION_EVENTS, topic_namespace=topic_namespace, after_write=after_write
        )
