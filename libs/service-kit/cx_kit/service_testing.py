"""Probes for a service's tests: its own namespaced topics and database, the real app over HTTP, a real process,
hostile input, and the check that its committed interface documents are current.

Imported by tests only (like `cx_kit.testing`); httpx and asgi-lifespan come from the workspace's dev group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr

from cx_contracts.topics import EVENT_TOPICS, TopicSpec
from cx_kit.aggregates import ACTIVE, AggregateRecord
from cx_kit.api_documents import ServiceDocuments, stale_documents
from cx_kit.kafka import ensure_topics
from cx_kit.mongo import connect_mongo
from cx_kit.outbox import LEASE_FIELD, OUTBOX_FIELD
from cx_kit.settings import ServiceSettings
from cx_kit.testing import Infrastructure, unique, wait_until

if TYPE_CHECKING:
    import httpx

SERVICE_TEST_TOKEN = "internal-token-for-tests-" + "x" * 16
# Settings under which a subscriber dead-letters a failing record after one quick retry.
QUICK_DEAD_LETTERS: dict[str, Any] = {"consumer_backoff_initial_s": 0.01, "consumer_max_attempts": 2}

Settings = TypeVar("Settings", bound=ServiceSettings)


class TokenIssuer(Protocol):
    """An issuer whose signed tokens a service under test accepts: the `dev_issuer` fixture of tools/dev-issuer."""

    @property
    def url(self) -> str:
        """The issuer, as its tokens' `iss` and the services' `oidc_issuer`."""
        ...

    def token(self, organisation_name: str, **claims: Any) -> str:
        """A signed access token of a person of `organisation_name` (a member with a verified e-mail unless
        `claims` say otherwise: `email`, `role`, `partnership`, `email_verified`, `audience`, `issuer`,
        `lifetime_s`, `issued_at`)."""
        ...


def signed_in(issuer: TokenIssuer, payload: dict[str, Any], **claims: Any) -> dict[str, str]:
    """The Authorization header of the person a Create body names: its organisation, its contact's address."""
    claims.setdefault("email", payload["contact"]["email"])
    return bearer(issuer.token(payload["organisation"]["name"], **claims))


def topic_namespace() -> str:
    """A fresh topic namespace such as `t1a2b3c4d5e6.`: a test's topics are its own."""
    return f"t{uuid.uuid4().hex[:12]}."


async def ensure_namespaced_topics(bootstrap: str, namespace: str, names: Iterable[str]) -> list[str]:
    """Create the contract topics `names` (with their config and dead-letter twins) under `namespace`."""
    specs = {spec.name: spec for spec in EVENT_TOPICS}
    wanted: list[TopicSpec] = []
    for name in names:
        spec = specs[name]
        namespaced = TopicSpec(
            namespace + spec.name, key=spec.key, config=dict(spec.config), partitions=spec.partitions
        )
        wanted += [namespaced, namespaced.dead_letter]
    await ensure_topics(bootstrap, wanted)
    return [spec.name for spec in wanted]


async def fresh_settings(
    settings_type: type[Settings],
    infrastructure: Infrastructure,
    topics: Iterable[str],
    *,
    issuer: TokenIssuer | None = None,
    **overrides: Any,
) -> Settings:
    """Settings of a service with a database and topics of its own (the topics are created here), accepting the
    tokens of `issuer` when given."""
    namespace = topic_namespace()
    await ensure_namespaced_topics(infrastructure.kafka_bootstrap, namespace, topics)
    values: dict[str, Any] = {
        "environment": "test",
        "topic_namespace": namespace,
        "kafka_bootstrap_servers": infrastructure.kafka_bootstrap,
        "mongo_url": SecretStr(infrastructure.mongo_url),
        "mongo_database": unique(settings_type.model_fields["mongo_database"].default).replace("-", "_"),
        "internal_token": SecretStr(SERVICE_TEST_TOKEN),
        "outbox_poll_interval_s": 0.2,
        "log_json": False,
        **({"oidc_issuer": issuer.url} if issuer is not None else {}),
        **overrides,
    }
    return settings_type(**values)


async def drop_database(infrastructure: Infrastructure, name: str) -> None:
    """Remove a test's database."""
    client = connect_mongo(infrastructure.mongo_url, "cx-tests")
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@dataclass(frozen=True)
class RunningService:
    """A service of the test's own, lifespan running: an HTTP client on it, the app, and its settings."""

    client: httpx.AsyncClient
    app: Any
    settings: ServiceSettings


@contextlib.asynccontextmanager
async def own_service(
    settings_type: type[Settings],
    create_app: Callable[[Settings], Any],
    infrastructure: Infrastructure,
    topics: Iterable[str],
    *,
    issuer: TokenIssuer | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningService]:
    """A service of the test's own (`fresh_settings`), running until the block ends; then its database goes."""
    settings = await fresh_settings(settings_type, infrastructure, topics, issuer=issuer, **overrides)
    try:
        app = create_app(settings)
        async with serving(app) as client:
            yield RunningService(client, app, settings)
    finally:
        await drop_database(infrastructure, settings.mongo_database)


async def created(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    """POST `body` to `path` signed in with `headers`, expecting a 201; returns the response body."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def stored_record(payload: dict[str, Any], *, revision: int = 1, at: datetime | None = None) -> AggregateRecord:
    """A record as the repository holds it after a create from the request body `payload` (for unit tests)."""
    when = at or datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    return AggregateRecord(
        id=str(uuid.uuid4()),
        owner="owner-of-the-record",
        partnership=payload.get("partnership"),
        organisation=payload["organisation"],
        contact=payload["contact"],
        answers=payload["answers"],
        revision=revision,
        status=ACTIVE,
        created_at=when,
        updated_at=when,
    )


class InterfaceDocumentsSuite:
    """Unit tests of a service's committed OpenAPI and AsyncAPI documents; a subclass sets `documents`."""

    documents: ServiceDocuments[Any]

    def test_the_committed_interface_documents_are_current(self) -> None:
        stale = stale_documents(self.documents.documents())
        assert stale == [], f"stale: {[str(p) for p in stale]}; regenerate with: {self.documents.regenerate}"


async def settled_document(collection: Any, document_id: Any, timeout: float = 20.0) -> dict[str, Any]:
    """The document once the outbox relay is done with it: no entry left, no lease held.

    The relay's record reaches the topic before the relay clears the entry, so a test that compares the
    stored document before and after must take it from here, not right after reading the topic.
    """

    async def settled() -> dict[str, Any] | None:
        document = await collection.find_one({"_id": document_id})
        if document is not None and not document.get(OUTBOX_FIELD) and not document.get(LEASE_FIELD):
            return document
        return None

    document = await wait_until(settled, timeout=timeout, message=f"the outbox relay to be done with {document_id}")
    assert document is not None  # wait_until returns only a truthy value
    return document


async def topic_record_count(bootstrap: str, topic: str) -> int:
    """How many records were ever written to `topic` (the sum of its partitions' end offsets)."""
    # Subscribed without a group, the consumer fetches the topic's metadata on start.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            raise AssertionError(f"topic {topic} does not exist")
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Any]:
    """The real app with its lifespan running (broker, relay, subscribers), and an httpx client on it."""
    import httpx
    from asgi_lifespan import LifespanManager

    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            yield client


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServiceProcess:
    """A service run as its own OS process (`python -m <module>`), to be killed for real."""

    module: str
    env: dict[str, str]
    port: int
    log_path: str
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """Base URL of the process's HTTP server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process (append its output to `log_path`)."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module], env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the process answers /healthz; fail with its log if it died or never answered."""
        import asyncio

        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.module} exited with {self.process.returncode}: {self.log_tail()}")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.module} did not answer within {timeout}s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait (the graceful shutdown), killing it if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, size: int = 4000) -> str:
        """The end of the process's output."""
        try:
            with open(self.log_path, "rb") as log:
                return log.read()[-size:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"


# ---------------------------------------------------------------------------------------------------------
# Hostile input shared by the answer-owning services (organisation, contact, the common answer fields)
# ---------------------------------------------------------------------------------------------------------

REMOVE = object()  # a mutation value: delete the key
INJECTION = {"$gt": ""}
SCRIPT = "<script>alert(1)</script>"


@dataclass(frozen=True)
class HostileInput:
    """One change that must make a valid body invalid: set `path` (dotted; list items by index) to `value`."""

    label: str
    path: str
    value: Any
    field: str | None  # the field the problem must name (None: the body as a whole)


def mutated(payload: dict[str, Any], path: str, value: Any) -> Any:
    """A deep copy of `payload` with `path` set to `value` (or removed, for REMOVE); "" replaces the body."""
    import copy

    if path == "":
        return value
    document = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is REMOVE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


def names_field(problem: dict[str, Any], field: str) -> bool:
    """Whether a problem document names `field` (or something inside it) among its errors."""
    fields = [error.get("field", "") for error in problem.get("errors", [])]
    return any(f == field or f.startswith(field + ".") or f.startswith(field + "[") for f in fields)


def organisation_and_contact_inputs() -> list[HostileInput]:
    """Broken organisation, contact and top-level fields: wrong types, unknown fields, bad codes, injections."""
    return [
        HostileInput("name-wrong-type", "organisation.name", 123, "organisation.name"),
        HostileInput("name-object-injection", "organisation.name", INJECTION, "organisation.name"),
        HostileInput("name-too-long", "organisation.name", "N" * 201, "organisation.name"),
        HostileInput("name-nul-byte", "organisation.name", "Cluster\x00Name", "organisation.name"),
        HostileInput("name-bidi-override", "organisation.name", "Cluster \u202eeman", "organisation.name"),
        HostileInput("name-missing", "organisation.name", REMOVE, "organisation.name"),
        HostileInput("kind-unknown", "organisation.kind", "university", "organisation.kind"),
        HostileInput("kind-script", "organisation.kind", SCRIPT, "organisation.kind"),
        HostileInput("country-lower-case", "organisation.country", "de", "organisation.country"),
        HostileInput("country-uk-code", "organisation.country", "UK", "organisation.country"),
        HostileInput("country-not-eligible", "organisation.country", "CH", "organisation.country"),
        HostileInput("country-injection", "organisation.country", INJECTION, "organisation.country"),
        HostileInput("country-three-letters", "organisation.country", "DEU", "organisation.country"),
        HostileInput("city-empty", "organisation.city", "", "organisation.city"),
        HostileInput("city-newline", "organisation.city", "Bergen\nOslo", "organisation.city"),
        HostileInput("website-javascript", "organisation.website", "javascript:alert(1)", "organisation.website"),
        HostileInput("website-ip-address", "organisation.website", "http://127.0.0.1/admin", "organisation.website"),
        HostileInput("website-ftp", "organisation.website", "ftp://files.example.eu/", "organisation.website"),
        HostileInput(
            "website-credentials", "organisation.website", "https://u:p@x.example.eu/", "organisation.website"
        ),
        HostileInput("organisation-unknown-field", "organisation.status", "approved", "organisation.status"),
        HostileInput("organisation-list", "organisation", [], "organisation"),
        HostileInput("contact-email-invalid", "contact.email", "not-an-email", "contact.email"),
        HostileInput("contact-email-no-domain-dot", "contact.email", "a@b", "contact.email"),
        HostileInput("contact-email-injection", "contact.email", {"$ne": None}, "contact.email"),
        HostileInput("contact-email-too-long", "contact.email", "a" * 250 + "@x.example", "contact.email"),
        HostileInput("contact-name-too-short", "contact.name", "X", "contact.name"),
        HostileInput("contact-name-nul", "contact.name", "Ann\x00", "contact.name"),
        HostileInput("contact-unknown-phone", "contact.phone", "+49 30 1234", "contact.phone"),
        HostileInput("contact-email-not-the-signed-in", "contact.email", "victim@elsewhere.example", "contact.email"),
        HostileInput("partnership-unknown", "partnership", "escp-4x-99", "partnership"),
        HostileInput("partnership-upper-case", "partnership", "ESCP-4X-01", "partnership"),
        HostileInput("partnership-injection", "partnership", INJECTION, "partnership"),
        HostileInput("partnership-number", "partnership", 1, "partnership"),
        HostileInput("partnership-missing", "partnership", REMOVE, "partnership"),
        HostileInput("contact-missing", "contact", REMOVE, "contact"),
        HostileInput("organisation-missing", "organisation", REMOVE, "organisation"),
        HostileInput("answers-missing", "answers", REMOVE, "answers"),
        HostileInput("owner-smuggled", "owner", "someone-else", "owner"),
        HostileInput("revision-smuggled", "revision", 99, "revision"),
        HostileInput("status-smuggled", "status", "withdrawn", "status"),
        HostileInput("body-array", "", [], None),
        HostileInput("body-null", "", None, None),
        HostileInput("body-string", "", "hello", None),
    ]


def shared_answer_inputs() -> list[HostileInput]:
    """Broken answer fields both questionnaires share."""
    return [
        HostileInput("ecosystems-empty", "answers.ecosystems", [], "answers.ecosystems"),
        HostileInput(
            "ecosystems-four", "answers.ecosystems", ["digital", "health", "retail", "tourism"], "answers.ecosystems"
        ),
        HostileInput("ecosystems-unknown", "answers.ecosystems", ["space"], "answers.ecosystems[0]"),
        HostileInput("ecosystems-repeated", "answers.ecosystems", ["digital", "digital"], "answers.ecosystems"),
        HostileInput("ecosystems-string", "answers.ecosystems", "digital", "answers.ecosystems"),
        HostileInput("ecosystems-injection", "answers.ecosystems", [INJECTION], "answers.ecosystems[0]"),
        HostileInput("topics-empty", "answers.topics", [], "answers.topics"),
        HostileInput("topics-script", "answers.topics", [SCRIPT], "answers.topics[0]"),
        HostileInput("activities-unknown", "answers.activities", ["karaoke"], "answers.activities[0]"),
        HostileInput("languages-upper-case", "answers.languages", ["EN"], "answers.languages[0]"),
        HostileInput("languages-unknown", "answers.languages", ["xx"], "answers.languages[0]"),
        HostileInput("languages-injection", "answers.languages", [INJECTION], "answers.languages[0]"),
        HostileInput("formats-hybrid", "answers.formats", ["hybrid"], "answers.formats[0]"),
        HostileInput("formats-empty", "answers.formats", [], "answers.formats"),
        HostileInput("keywords-too-many", "answers.keywords", [f"tag {i}" for i in range(21)], "answers.keywords"),
        HostileInput("keywords-repeated-any-case", "answers.keywords", ["Lab", "lab"], "answers.keywords"),
        HostileInput("keyword-too-long", "answers.keywords", ["k" * 51], "answers.keywords[0]"),
        HostileInput("keyword-nul", "answers.keywords", ["data\x00sharing"], "answers.keywords[0]"),
        HostileInput("answers-unknown-field", "answers.score", 1.0, "answers.score"),
    ]


# If-Match values a write must refuse with 422 naming the header.
HOSTILE_IF_MATCH = ["abc", "*", 'W/"1"', "1", '"1", "2"', '"0"', '"-1"', '"' + "9" * 30 + '"', '{"$gt": ""}']
# Authorization values an owner route must refuse with 401 (the kinds of bad tokens that need an issuer to make
# are the access matrix's, tests/access).
HOSTILE_AUTHORIZATION = [
    "Bearer",
    "Bearer x",
    "Basic dXNlcjpwYXNz",
    'Bearer {"$gt":""}',
    "Bearer " + "x" * 42,
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
]
# Path ids that are not UUIDs (percent-encoded where needed; no slash, which would change the route): each is
# a 422 naming the id.
HOSTILE_IDS = [
    "not-a-uuid",
    "%7B%22%24gt%22%3A%22%22%7D",
    "%3Cscript%3Ealert(1)%3C%5Cscript%3E",
    "12345",
    "%00",
    "0" * 300,
    "00000000-0000-0000-0000-00000000000g",
]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def personal_data_in(records: Iterable[Any], contact: dict[str, str]) -> list[str]:
    """Which of the contact's name and e-mail occur anywhere in the Kafka records (key, value or headers)."""
    found = []
    for record in records:
        raw = b"|".join([record.key or b"", record.value or b"", *[value for _, value in record.headers or ()]])
        for item in (contact["name"], contact["email"]):
            if item.casefold().encode() in raw.decode("utf-8", "replace").casefold().encode():
                found.append(item)
    return found
