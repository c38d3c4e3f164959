"""The composition every service owning one kind of record shares: who is calling (its issuer's tokens),
repository, outbox relay, published topic, owner routes and contact look-up, and the HTTP app that runs them.

A service's `app.py` stays its composition root: it builds an `OwnedAggregateService` from its settings and
its descriptions, adds what is its own (a listing, a subscriber, more routes), and asks for the app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from fastapi import APIRouter, FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from cx_contracts.events import Event
from cx_kit.aggregate_http import install_handlers
from cx_kit.aggregate_routes import OwnedAggregateRoutes, contacts_router, owned_aggregate_router, records_router
from cx_kit.aggregates import OwnedAggregates, prepare_store
from cx_kit.outbox import BrokerPublisher, OutboxRelay
from cx_kit.ownership import Ownership
from cx_kit.runtime import ServiceParts
from cx_kit.settings import OwnedRecordSettings

Repository = TypeVar("Repository", bound=OwnedAggregates, covariant=True)


class RepositoryFactory(Protocol[Repository]):
    """How a service makes its repository: on its database, in its topic namespace, waking the relay on writes."""

    def __call__(
        self, database: AsyncDatabase, *, topic_namespace: str, after_write: Callable[[], None]
    ) -> Repository: ...


class OwnedAggregateService(Generic[Repository]):
    """The parts of a service that owns one kind of record and announces every change of it on its topic."""

    def __init__(
        self,
        settings: OwnedRecordSettings,
        routes: OwnedAggregateRoutes,
        repository: RepositoryFactory[Repository],
        *,
        announces: type[Event],
        announcement: str,
    ) -> None:
        """`announces` is the event of every change (its contract names the topic); `announcement` is what the
        AsyncAPI document says of that topic."""
        self.settings = settings
        self.routes = routes
        self.parts = ServiceParts(settings)
        self.ownership = Ownership.of(settings)
        self.repository = repository(
            self.parts.database, topic_namespace=settings.topic_namespace, after_write=self._wake_relay
        )
        self.relay = OutboxRelay(
            [self.repository.collection],
            BrokerPublisher(self.parts.broker),
            poll_interval_s=settings.outbox_poll_interval_s,
            lease_s=settings.outbox_lease_s,
        )
        # The relay publishes from the outbox; this declaration is what the AsyncAPI document shows of it.
        topic = settings.topic(announces.TOPIC)
        self.parts.broker.publisher(topic, schema=announces, title=f"{topic}:publish", description=announcement)

    def _wake_relay(self) -> None:
        self.relay.wake()

    def http_app(self, *, title: str, version: str, description: str, routers: Sequence[APIRouter] = ()) -> FastAPI:
        """The service's app: the owner routes, then `routers`, then the internal contact and facts look-ups; the
        relay runs with it."""
        app: FastAPI = self.parts.http_app(
            title=title,
            version=version,
            description=description,
            routers=[
                owned_aggregate_router(self.routes, self.repository, self.ownership, self.settings.partnerships),
                *routers,
                contacts_router(self.routes, self.repository, self.settings),
                records_router(self.routes, self.repository, self.settings),
            ],
            workers=[self.relay],
            on_startup=[self._prepare_store],
        )
        install_handlers(app)
        app.state.relay = self.relay
        app.state.repository = self.repository
        return app

    async def _prepare_store(self) -> None:
        await prepare_store(self.repository)
