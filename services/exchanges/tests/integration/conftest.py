"""The exchanges service on the real Kafka and FerretDB, with the real catalogue and applications services serving
their internal record and contact routes over HTTP on loopback, and tokens of the real development issuer.

Each test's host entries and applications are its own (an organisation name with a random part), so the tests
share one set of services without reading each other's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager

from cx_contracts import examples
from cx_contracts.codec import event_headers, event_value, headers_as_text
from cx_contracts.topics import EXCHANGE_EVENTS, HOST_ANSWERS, MATCH_FOUND, VISITOR_ANSWERS
from cx_kit.kafka import make_broker
from cx_kit.service_testing import TokenIssuer, bearer, created, drop_database, fresh_settings, signed_in
from cx_kit.testing import Infrastructure, unique, wait_until

from cx_applications.app import create_app as create_applications
from cx_applications.settings import Settings as ApplicationsSettings
from cx_catalogue.app import create_app as create_catalogue
from cx_catalogue.settings import Settings as CatalogueSettings
from cx_exchanges.app import create_app
from cx_exchanges.settings import Settings

TODAY = date(2027, 1, 11)
# Monday 12 to Friday 16 April 2027: inside the first two example hosts' availability and the first visitor's window.
DATES = {"start": "2027-04-12", "end": "2027-04-16"}
GOALS = "We want to learn how a cluster set up a farm data platform and how it convinced farmers to share data."
AGENDA = "Day one: the living lab. Day two: the data platform. Days three to five: pilots with member companies."
LEARNT = "We learnt how the living lab brokers pilots between start-ups and farms, and how it keeps data safe."
FOLLOW_UP = "We start a data-sharing pilot with three dairy farms in spring and invite the host to visit us in June."


@dataclass
class TestClock:
    """The exchanges service's today, set by the test."""

    day: date = TODAY

    def today(self) -> date:
        return self.day


@contextlib.asynccontextmanager
async def served_over_http(app: Any) -> AsyncIterator[str]:
    """The app (lifespan running) on a real HTTP server on loopback; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        return bool(server.started)

    try:
        await wait_until(started, timeout=60, message="a record service to start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Party:
    """An organisation of a test: its record id and the Authorization header of its person."""

    record_id: str
    headers: dict[str, str]
    payload: dict[str, Any]

    @property
    def contact(self) -> dict[str, str]:
        """Its contact person (personal data)."""
        return self.payload["contact"]


@dataclass
class Platform:
    """The three services of the tests, and how to make the organisations of a test."""

    exchanges: httpx.AsyncClient
    catalogue: httpx.AsyncClient
    applications: httpx.AsyncClient
    app: Any
    settings: Settings
    clock: TestClock
    issuer: TokenIssuer
    infrastructure: Infrastructure
    publish_run: Callable[[str, list[str]], Awaitable[None]]
    parties: list[Party] = field(default_factory=list)

    async def host(self, index: int = 0, **answers: Any) -> Party:
        """A host entry of an organisation of this test's own (example host `index`)."""
        payload = examples.host_entry_payload(
            index, organisation={"name": f"Host {uuid.uuid4().hex[:8]}"}, answers=answers
        )
        return await self._record(self.catalogue, "/api/catalogue/hosts", "host_id", payload)

    async def visitor(self, index: int = 0, *, name: str | None = None, **answers: Any) -> Party:
        """An application of an organisation of this test's own (example visitor `index`)."""
        organisation = {"name": name or f"Visitor {uuid.uuid4().hex[:8]}"}
        payload = examples.application_payload(index, organisation=organisation, answers=answers)
        return await self._record(self.applications, "/api/applications", "application_id", payload)

    async def _record(self, client: httpx.AsyncClient, path: str, id_field: str, payload: dict[str, Any]) -> Party:
        slug = payload["organisation"]["name"].lower().replace(" ", "-")
        payload["contact"] = {"name": f"Person of {slug}", "email": f"person@{slug}.example"}
        headers = signed_in(self.issuer, payload)
        record = await created(client, path, payload, headers)
        party = Party(record[id_field], headers, payload)
        self.parties.append(party)
        return party

    async def proposed(self, visitor: Party, *hosts: Party) -> None:
        """The matcher proposes `hosts` to the visitor's application (a real record on match-found)."""
        await self.publish_run(visitor.record_id, [host.record_id for host in hosts])
        proposals = self.app.state.proposals

        async def kept() -> bool:
            return set(await proposals.hosts(visitor.record_id)) == {host.record_id for host in hosts}

        await wait_until(kept, timeout=30, message="the proposed hosts to be kept")

    def manager(self, partnership: str) -> dict[str, str]:
        """The Authorization header of a manager of `partnership`."""
        return bearer(self.issuer.token(f"Office {partnership}", role="manager", partnership=partnership))

    async def request(
        self, visitor: Party, host: Party, idempotency_key: str | None = None, **changes: Any
    ) -> httpx.Response:
        """The visitor asks the host (proposed to it first) for an exchange (with an Idempotency-Key if given)."""
        body = {
            "application_id": visitor.record_id,
            "host_id": host.record_id,
            "dates": DATES,
            "format": "physical",
            "participants": visitor.payload["answers"]["participants"],
            "goals": GOALS,
            "message": "We would love to visit you in April.",
            **changes,
        }
        keyed = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        return await self.exchanges.post("/api/exchanges", json=body, headers={**visitor.headers, **keyed})

    async def requested(self, visitor: Party, host: Party, **changes: Any) -> dict[str, Any]:
        """A request that was taken (201): its id and revision."""
        await self.proposed(visitor, host)
        response = await self.request(visitor, host, **changes)
        assert response.status_code == 201, response.text
        return response.json()

    async def step(
        self, exchange_id: str, step: str, headers: dict[str, str], revision: int, body: Any = None
    ) -> httpx.Response:
        """POST (or PUT, for the agreement) one step of an exchange from `revision`."""
        method = "PUT" if step == "agreement" else "POST"
        return await self.exchanges.request(
            method,
            f"/api/exchanges/{exchange_id}/{step}",
            json=body,
            headers={**headers, "If-Match": f'"{revision}"'},
        )


@pytest.fixture(scope="module")
async def platform(infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[Platform]:
    """The real catalogue and applications over HTTP, and the exchanges service they answer."""
    catalogue_settings = await fresh_settings(CatalogueSettings, infrastructure, [HOST_ANSWERS], issuer=dev_issuer)
    applications_settings = await fresh_settings(
        ApplicationsSettings, infrastructure, [VISITOR_ANSWERS, MATCH_FOUND], issuer=dev_issuer
    )
    clock = TestClock()
    broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("matcher-stand-in"))
    try:
        async with (
            served_over_http(create_catalogue(catalogue_settings)) as catalogue_url,
            served_over_http(create_applications(applications_settings)) as applications_url,
        ):
            settings = await fresh_settings(
                Settings,
                infrastructure,
                [MATCH_FOUND, EXCHANGE_EVENTS],
                issuer=dev_issuer,
                catalogue_url=catalogue_url,
                applications_url=applications_url,
            )

            async def publish_run(application_id: str, host_ids: list[str]) -> None:
                run = examples.match_found(
                    application_id=uuid.UUID(application_id), host_ids=[uuid.UUID(h) for h in host_ids]
                )
                await broker.publish(
                    event_value(run),
                    topic=settings.topic(MATCH_FOUND),
                    key=application_id.encode(),
                    headers=headers_as_text(event_headers(run)),
                )

            app = create_app(settings, clock=clock)
            try:
                async with broker, LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
                    await broker.start()
                    transport = httpx.ASGITransport(app=manager.app)
                    async with (
                        httpx.AsyncClient(transport=transport, base_url="http://exchanges.test") as client,
                        httpx.AsyncClient(base_url=catalogue_url) as catalogue,
                        httpx.AsyncClient(base_url=applications_url) as applications,
                    ):
                        yield Platform(
                            client,
                            catalogue,
                            applications,
                            app,
                            settings,
                            clock,
                            dev_issuer,
                            infrastructure,
                            publish_run,
                        )
            finally:
                await drop_database(infrastructure, settings.mongo_database)
    finally:
        await drop_database(infrastructure, catalogue_settings.mongo_database)
        await drop_database(infrastructure, applications_settings.mongo_database)


@pytest.fixture(autouse=True)
def _today(platform: Platform) -> None:
    # Each test starts on the same day, whatever the test before it moved the clock to.
    platform.clock.day = TODAY
