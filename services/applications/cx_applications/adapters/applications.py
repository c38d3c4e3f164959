"""The applications collection (MongoDB db `applications`): visitors' applications and their outbox."""

from __future__ import annotations

from collections.abc import Callable

from pymongo.asynchronous.database import AsyncDatabase

from cx_contracts.events import VisitorAnswersSubmitted, VisitorAnswersWithdrawn

from cx_kit.aggregates import AggregateRecord, OwnedAggregates

from cx_applications.domain.application import visitor_answers_submitted, visitor_answers_withdrawn

APPLICATIONS = "applications"


class ApplicationEvents:
    """The applications service's events, built from the stored state of an application."""

    def submitted(self, record: AggregateRecord) -> VisitorAnswersSubmitted:
        """VisitorAnswersSubmitted for the application as stored."""
        return visitor_answers_submitted(record.id, record.revision, record.organisation, record.answers,
                                         record.updated_at)

    def withdrawn(self, record: AggregateRecord) -> VisitorAnswersWithdrawn:
        """The tombstone of a withdrawn application."""
        return visitor_answers_withdrawn(record.id, record.revision, record.updated_at)


class ApplicationRepository(OwnedAggregates):
    """Applications: owned, revised, withdrawn with their events (see cx_kit.aggregates)."""

    def __init__(self, database: AsyncDatabase, *, topic_namespace: str = "",
                 after_write: Callable[[], None] | None = None) -> None:
        super().__init__(database[APPLICATIONS], ApplicationEvents(), topic_namespace=topic_namespace,
                         after_write=after_write)
