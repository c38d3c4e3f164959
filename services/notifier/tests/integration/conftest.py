"""The notifier on the real Kafka, FerretDB and Mailpit, with a real HTTP server standing in for the contact
endpoints of the catalogue and applications services (those services are being written in parallel; an
end-to-end test against them follows).

Every test gets its own topic namespace, consumer group, database, and a token that appears in every
address it mails, so it finds its own mails in the shared Mailpit and never touches another test's.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Header, Response

from cx_contracts.api import ContactCard
from cx_contracts.codec import event_headers, event_value, headers_as_text
from cx_contracts.events import ExchangeEvent, MatchFound
from cx_contracts.topics import EVENT_TOPICS, EXCHANGE_EVENTS, MATCH_FOUND, NOTIFICATION_SENT, TopicSpec
from cx_kit.kafka import ensure_topics, make_broker
from cx_kit.testing import Infrastructure, unique, wait_until

from cx_notifier.adapters.ledger import DONE_COLLECTION, MAILS_COLLECTION
from cx_notifier.app import create_app
from cx_notifier.settings import Settings

INTERNAL_TOKEN = "notifier-tests-" + uuid.uuid4().hex
PUBLIC_BASE_URL = "https://exchange.example"

# ------------------------------------------------------------------------------------------ contact server


class ContactServer:
    """The contact endpoints of the catalogue and applications services, as a real HTTP server on loopback."""

    def __init__(self) -> None:
        self.cards: dict[tuple[str, str], ContactCard] = {}
        self.failures: dict[tuple[str, str], list[int]] = {}
        self.requests: Counter[tuple[str, str]] = Counter()
        self.unauthorised = 0
        self.url = ""
        self.app = FastAPI()
        self.app.get("/internal/contacts/hosts/{card_id}")(self._host)
        self.app.get("/internal/contacts/applications/{card_id}")(self._visitor)

    def add(self, *cards: ContactCard) -> None:
        """Serve these cards (a host card from the catalogue path, a visitor card from the applications path)."""
        for card in cards:
            self.cards[(card.kind, str(card.id))] = card

    def remove(self, card: ContactCard) -> None:
        """The organisation is withdrawn or erased: its card answers 404 from now on."""
        self.cards.pop((card.kind, str(card.id)), None)

    def fail(self, card: ContactCard, *statuses: int) -> None:
        """Answer the next requests for `card` with these statuses, then serve it again."""
        self.failures[(card.kind, str(card.id))] = list(statuses)

    async def _host(self, card_id: str, authorization: str | None = Header(None)) -> Response:
        return self._answer("host", card_id, authorization)

    async def _visitor(self, card_id: str, authorization: str | None = Header(None)) -> Response:
        return self._answer("visitor", card_id, authorization)

    def _answer(self, kind: str, card_id: str, authorization: str | None) -> Response:
        if authorization != f"Bearer {INTERNAL_TOKEN}":
            self.unauthorised += 1
            return Response(status_code=401)
        key = (kind, card_id)
        self.requests[key] += 1
        if self.failures.get(key):
            return Response(status_code=self.failures[key].pop(0))
        card = self.cards.get(key)
        if card is None:
            return Response(status_code=404)
        return Response(card.model_dump_json(), media_type="application/json")


@pytest.fixture(scope="session")
async def contact_server() -> AsyncIterator[ContactServer]:
    """One contact server for the session; tests register cards with their own random ids."""
    server = ContactServer()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    uvicorn_server = uvicorn.Server(uvicorn.Config(server.app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(uvicorn_server.serve(sockets=[sock]))
    await wait_until(lambda: _value(uvicorn_server.started), timeout=10, message="the contact server")
    yield server
    uvicorn_server.should_exit = True
    await task


async def _value(value: Any) -> Any:
    return value


# ------------------------------------------------------------------------------------------------ Mailpit


class Mailpit:
    """Mailpit's HTTP API: search, read, and delete what a query finds (never everything)."""

    def __init__(self, url: str) -> None:
        self._client = httpx.AsyncClient(base_url=url, timeout=20)

    async def search(self, query: str) -> list[dict[str, Any]]:
        """Summaries of every message the query finds (all pages)."""
        found: list[dict[str, Any]] = []
        while True:
            response = await self._client.get(
                "/api/v1/search", params={"query": query, "start": len(found), "limit": 500}
            )
            response.raise_for_status()
            page = response.json()["messages"]
            found.extend(page)
            if len(page) < 500:
                return found

    async def count(self, query: str) -> int:
        """How many messages the query finds (one small request)."""
        response = await self._client.get("/api/v1/search", params={"query": query, "limit": 1})
        response.raise_for_status()
        return int(response.json()["messages_count"])

    async def message(self, message_id: str) -> dict[str, Any]:
        """One message: headers, Text and HTML."""
        response = await self._client.get(f"/api/v1/message/{message_id}")
        response.raise_for_status()
        return response.json()

    async def raw(self, message_id: str) -> EmailMessage:
        """One message as the relay received it, parsed."""
        response = await self._client.get(f"/api/v1/message/{message_id}/raw")
        response.raise_for_status()
        return message_from_bytes(response.content, policy=policy.default)  # type: ignore[return-value]

    async def wait_for(self, query: str, count: int, *, timeout: float = 30) -> list[dict[str, Any]]:
        """Poll until the query finds at least `count` messages."""

        async def enough() -> list[dict[str, Any]] | None:
            found = await self.search(query)
            return found if len(found) >= count else None

        return await wait_until(enough, timeout=timeout, interval=0.3, message=f"{count} mails for {query!r}")

    async def delete(self, query: str) -> None:
        """Delete the messages the query finds (a test's own, by its token)."""
        (await self._client.request("DELETE", "/api/v1/search", params={"query": query})).raise_for_status()

    async def close(self) -> None:
        await self._client.aclose()


@pytest.fixture(scope="session")
async def mailpit(infrastructure: Infrastructure) -> AsyncIterator[Mailpit]:
    """The shared Mailpit's API."""
    client = Mailpit(infrastructure.mailpit_url)
    yield client
    await client.close()


# --------------------------------------------------------------------------------------------- TCP proxy


class TcpProxy:
    """A loopback TCP proxy to the SMTP relay that a test can close (refusing connections) and open again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.connections = 0

    async def open(self) -> None:
        """Accept connections (on the same port every time)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort() if sink.transport.is_closing() else sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._writers.difference_update((writer, upstream_writer))


@pytest.fixture
async def smtp_proxy(infrastructure: Infrastructure) -> AsyncIterator[TcpProxy]:
    """A proxy to Mailpit's SMTP port, open at the start."""
    proxy = TcpProxy(infrastructure.smtp_host, infrastructure.smtp_port)
    await proxy.open()
    try:
        yield proxy
    finally:
        await proxy.close()


# ------------------------------------------------------------------------------------------------ a world


class NotifierWorld:
    """One test's topics, database, organisations and running notifiers."""

    def __init__(
        self,
        infrastructure: Infrastructure,
        contacts: ContactServer,
        mailpit: Mailpit,
        database: Any,
        make_card: Callable[..., ContactCard],
    ) -> None:
        self._make_card = make_card
        self.infrastructure = infrastructure
        self.contacts = contacts
        self.mailpit = mailpit
        self.database = database
        self.namespace = f"t{uuid.uuid4().hex[:10]}."
        self.token = uuid.uuid4().hex[:12]
        self.match_found_topic = self.namespace + MATCH_FOUND
        self.notification_sent_topic = self.namespace + NOTIFICATION_SENT
        self._broker = make_broker(infrastructure.kafka_bootstrap, client_id=unique("notifier-test-producer"))
        self._cards = 0

    async def create_topics(self, partitions: int = 3) -> None:
        """This test's match-found, exchange-events and notification-sent topics, with their dead-letter twins."""
        specs = [
            TopicSpec(self.namespace + spec.name, spec.key, dict(spec.config), partitions)
            for spec in EVENT_TOPICS
            if spec.name in (MATCH_FOUND, EXCHANGE_EVENTS, NOTIFICATION_SENT)
        ]
        await ensure_topics(self.infrastructure.kafka_bootstrap, [*specs, *(s.dead_letter for s in specs)])
        await self._broker.connect()

    def settings(self, **overrides: Any) -> Settings:
        """Settings of a notifier in this world (small intervals; a high cap unless a test sets one)."""
        values: dict[str, Any] = dict(
            environment="test",
            kafka_bootstrap_servers=self.infrastructure.kafka_bootstrap,
            mongo_url=self.infrastructure.mongo_url,
            mongo_database=self.database.name,
            topic_namespace=self.namespace,
            internal_token=INTERNAL_TOKEN,
            catalogue_url=self.contacts.url,
            applications_url=self.contacts.url,
            smtp_host=self.infrastructure.smtp_host,
            smtp_port=self.infrastructure.smtp_port,
            public_base_url=PUBLIC_BASE_URL,
            mails_per_recipient=1000,
            outbox_poll_interval_s=0.2,
            resume_interval_s=1.0,
            digest_interval_s=1.0,
            status_cache_s=0.2,
        )
        values.update(overrides)
        return Settings(**values)

    @contextlib.asynccontextmanager
    async def running(self, **overrides: Any) -> AsyncIterator[FastAPI]:
        """A notifier running in this process (its broker, consumer, relay and periodic jobs)."""
        app = create_app(self.settings(**overrides))
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            yield app

    def organisation(
        self,
        kind: str,
        *,
        index: int = 0,
        languages: tuple[str, ...] = ("en",),
        serve: bool = True,
        **organisation: Any,
    ) -> ContactCard:
        """A host or visitor with a unique address holding this test's token, served by the contact server."""
        self._cards += 1
        card_id = uuid.uuid4()
        email = f"{kind}-{self._cards}-{card_id.hex[:6]}-{self.token}@{kind}s.example"
        card = self._make_card(kind, card_id=card_id, index=index, email=email, languages=languages, **organisation)
        if serve:
            self.contacts.add(card)
        return card

    async def publish(self, *matches: MatchFound, traceparent: str | None = None) -> None:
        """Publish MatchFound events the way the matcher does (durable producer, contract headers)."""
        for match in matches:
            await self._broker.publish(
                event_value(match),
                topic=self.match_found_topic,
                key=match.key.encode(),
                headers=headers_as_text(event_headers(match, traceparent)),
            )

    async def publish_steps(self, *steps: ExchangeEvent) -> None:
        """Publish exchange events the way the exchanges service does (keyed by exchange, contract headers)."""
        for step in steps:
            await self._broker.publish(
                event_value(step),
                topic=self.namespace + EXCHANGE_EVENTS,
                key=step.key.encode(),
                headers=headers_as_text(event_headers(step)),
            )

    async def publish_raw(self, value: bytes | None, *, key: bytes, headers: dict[str, str] | None = None) -> None:
        """Publish any bytes on this world's match-found topic."""
        await self._broker.publish(value, topic=self.match_found_topic, key=key, headers=headers or {})

    async def mails(self) -> list[dict[str, Any]]:
        """Every mail of this test in Mailpit."""
        return await self.mailpit.search(f"to:{self.token}")

    async def wait_for_mails(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Poll Mailpit until this test has at least `count` mails."""
        return await self.mailpit.wait_for(f"to:{self.token}", count, timeout=timeout)

    async def entries(self) -> list[dict[str, Any]]:
        """The ledger's documents, in flight and finished (one per entry; the in-flight copy if moving)."""
        found: dict[str, dict[str, Any]] = {}
        for collection in (DONE_COLLECTION, MAILS_COLLECTION):
            found.update({d["_id"]: d async for d in self.database[collection].find()})
        return list(found.values())

    @staticmethod
    def addresses_of(summary: dict[str, Any]) -> list[str]:
        """The To addresses of a Mailpit message summary."""
        return [to["Address"] for to in summary["To"]]

    def received(self, summaries: list[dict[str, Any]], cards: list[ContactCard]) -> Counter[UUID]:
        """How many of the mails each card received."""
        by_address = {c.contact.email: c.id for c in cards}
        return Counter(by_address[a] for s in summaries for a in self.addresses_of(s) if a in by_address)

    async def close(self) -> None:
        await self._broker.stop()
        await self.mailpit.delete(f"to:{self.token}")


@pytest.fixture
async def world(
    infrastructure: Infrastructure,
    contact_server: ContactServer,
    mailpit: Mailpit,
    mongo_database: Any,
    make_card: Callable[..., ContactCard],
) -> AsyncIterator[NotifierWorld]:
    """A fresh world with its topics created."""
    created = NotifierWorld(infrastructure, contact_server, mailpit, mongo_database, make_card)
    await created.create_topics()
    try:
        yield created
    finally:
        await created.close()
