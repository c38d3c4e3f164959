"""The integration suite every service owning one kind of record runs, on the real store and broker.

The pyeventsourcing pattern: one abstract suite, run by each service against its own aggregate, so the
services cannot drift apart. A service subclasses `OwnedAggregateSuite` in its tests/integration (as a
`Test...` class), sets the attributes that say what its records are, and keeps beside it only the tests that
are its own (a listing, matches). The suite covers the owner routes, who may read and change what (owners,
other organisations, partnership managers), the contact's verified address, the private list, hostile
requests, the events on the topic with their headers, nothing lost when the process dies between the write and
the publish, and an unreachable store. Imported by tests only (like `cx_kit.service_testing`).

People sign in with real tokens: the `dev_issuer` fixture (tools/dev-issuer's pytest plugin) runs the
development issuer, the service under test verifies its tokens against that issuer's keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID, uuid4

import httpx
import jwt
import pytest
from pydantic import BaseModel, SecretStr

import cx_kit.mongo
from cx_contracts.codec import parse_event
from cx_contracts.events import Event, Withdrawal
from cx_contracts.questionnaire import Organisation
from cx_kit.mongo import connect_mongo
from cx_kit.service_testing import (
    HOSTILE_AUTHORIZATION,
    HOSTILE_IDS,
    HOSTILE_IF_MATCH,
    REMOVE,
    SERVICE_TEST_TOKEN,
    HostileInput,
    RunningService,
    ServiceProcess,
    TokenIssuer,
    bearer,
    drop_database,
    ensure_namespaced_topics,
    free_port,
    fresh_settings,
    mutated,
    names_field,
    organisation_and_contact_inputs,
    own_service,
    personal_data_in,
    serving,
    settled_document,
    shared_answer_inputs,
    signed_in,
    topic_namespace,
    topic_record_count,
)
from cx_kit.service_testing import (
    created as created_with,
)
from cx_kit.settings import ServiceSettings
from cx_kit.testing import Infrastructure, headers_of, read_topic, unique, wait_until

UNKNOWN = "7d7c2a7e-3c1b-4a8e-9a55-6f2d8d0b9c11"
# Bodies that are not one JSON document: (label, bytes, content type).
NOT_JSON = [
    ("not-json", b'{"organisation": ', "application/json"),
    ("empty", b"", "application/json"),
    ("json-as-text-plain", b"organisation=x", "text/plain"),
    ("invalid-utf8", b'{"organisation": "\xff\xfe"}', "application/json"),
    ("deeply-nested", b'{"organisation": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
]


def as_json(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON it is sent as."""
    return model.model_dump(mode="json")


def problem_of(response: httpx.Response, status: int | tuple[int, ...], field: str | None) -> dict[str, Any]:
    """The problem document of `response`, after checking its status and, if given, that it names `field`."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    if field is not None:
        assert names_field(problem, field), f"{field} not named in {problem}"
    return problem


@dataclass(frozen=True)
class SharedRecord:
    """One service shared by the hostile-request tests of a class, and the one record created on it beforehand."""

    service: RunningService
    record_id: str
    owner: dict[str, str]  # the Authorization header of its owner


class OwnedAggregateSuite:
    """What every service owning one kind of record must do; a subclass says what its records are."""

    # What the service is and where its records live.
    settings_type: ClassVar[type[ServiceSettings]]
    package: ClassVar[str]  # "cx_catalogue": what `python -m` runs
    collection: ClassVar[str]  # the MongoDB collection of the records
    path: ClassVar[str]  # "/api/catalogue/hosts"
    list_path: ClassVar[str]  # "/api/catalogue/entries": the caller's own records
    contacts_path: ClassVar[str]  # "/internal/contacts/hosts"
    id_field: ClassVar[str]  # "host_id"
    public_read: ClassVar[bool]  # anyone reads a record's public view (True) or only its owner reads it (False)
    contact_kind: ClassVar[str]  # the `kind` of its contact cards
    # What a record is made of and announced by.
    submitted_event: ClassVar[type[Event]]
    withdrawn_event: ClassVar[type[Withdrawal]]
    answers_model: ClassVar[type[BaseModel]]  # the answers as a client sends them
    answer_inputs: ClassVar[Sequence[HostileInput]]  # broken answers of this questionnaire alone
    free_text_field: ClassVar[str]  # its long free-text answer ("expertise", "goals")
    # The service's other routes that the shared checks must cover too.
    owner_reads: ClassVar[tuple[str, ...]] = ()  # owner-only reads under a record ("/matches")
    public_reads: ClassVar[tuple[str, ...]] = ()  # reads of the store outside a record (a listing)
    more_topics: ClassVar[tuple[str, ...]] = ()  # topics it consumes (created for each test's service)
    settings_overrides: ClassVar[dict[str, Any]] = {}

    def create_app(self, settings: Any) -> Any:
        """The service's app for `settings` (its `create_app`)."""
        raise NotImplementedError

    def payload(self, index: int = 0, **overrides: Any) -> dict[str, Any]:
        """The request body of example record `index` (from cx_contracts.examples)."""
        raise NotImplementedError

    # -- the suite's own helpers ----------------------------------------------------------------------------------

    @property
    def topic(self) -> str:
        """The contract topic the records are announced on."""
        return self.submitted_event.TOPIC

    def record_path(self, record_id: str) -> str:
        """Where one record is read, replaced and withdrawn."""
        return f"{self.path}/{record_id}"

    @pytest.fixture(autouse=True)
    def _issuer(self, dev_issuer: TokenIssuer) -> None:
        # Every test signs in through the real development issuer, which each test's service trusts.
        self.issuer = dev_issuer

    def owner(self, index: int = 0, **claims: Any) -> dict[str, str]:
        """The Authorization header of a person of example `index`'s organisation (by default its contact)."""
        return signed_in(self.issuer, self.payload(index), **claims)

    def manager(self, partnership: str) -> dict[str, str]:
        """The Authorization header of a manager of `partnership`."""
        return bearer(self.issuer.token("Partnership office", role="manager", partnership=partnership))

    async def create(self, client: httpx.AsyncClient, index: int = 0, **overrides: Any) -> dict[str, Any]:
        """POST example `index` (with overrides) signed in as its organisation; returns the 201 body."""
        return await created_with(client, self.path, self.payload(index, **overrides), self.owner(index))

    async def records(self, infrastructure: Infrastructure, settings: ServiceSettings, count: int) -> list[Any]:
        """The first `count` records of the service's topic, checking that no other was written."""
        topic = settings.topic(self.topic)
        records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= count)
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == count, "no extra record"
        return records

    def body_inputs(self) -> list[HostileInput]:
        """Every broken body the service must refuse."""
        return organisation_and_contact_inputs() + shared_answer_inputs() + list(self.answer_inputs)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        # The cases depend on the service (its questionnaire, its routes), so they are made per subclass.
        if "broken" in metafunc.fixturenames:
            cases = self.body_inputs()
            metafunc.parametrize("broken", cases, ids=[case.label for case in cases])
        if "broken_update" in metafunc.fixturenames:
            inside = [
                case
                for case in self.body_inputs()
                if case.path.startswith(("answers.", "contact.", "organisation."))
                or (case.path == "partnership" and case.value is not REMOVE)
            ]
            updates = [(case, "everything") for case in inside]
            updates += [(case, "answers-only") for case in inside if case.path.startswith("answers.")]
            metafunc.parametrize("broken_update", updates, ids=[f"{case.label}-{shape}" for case, shape in updates])
        if "record_route" in metafunc.fixturenames:
            metafunc.parametrize("record_route", ["GET", "PUT", "DELETE", "INTERNAL", *self.owner_reads])
        if "owner_route" in metafunc.fixturenames:
            metafunc.parametrize("owner_route", ["GET", "PUT", "DELETE", *self.owner_reads])

    # -- fixtures -------------------------------------------------------------------------------------------------

    @pytest.fixture
    async def settings(self, infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[ServiceSettings]:
        """A fresh service's settings (its own database and topics, the dev issuer's tokens); its database is
        dropped afterwards."""
        value = await fresh_settings(
            self.settings_type,
            infrastructure,
            [self.topic, *self.more_topics],
            issuer=dev_issuer,
            **self.settings_overrides,
        )
        yield value
        await drop_database(infrastructure, value.mongo_database)

    @pytest.fixture
    async def service(self, settings: ServiceSettings) -> AsyncIterator[RunningService]:
        """The real app on `settings`, lifespan running (broker, relay, subscribers), with an HTTP client."""
        app = self.create_app(settings)
        async with serving(app) as client:
            yield RunningService(client, app, settings)

    @pytest.fixture(scope="class")
    @classmethod
    async def shared(cls, infrastructure: Infrastructure, dev_issuer: TokenIssuer) -> AsyncIterator[SharedRecord]:
        """One service for the class's many cheap requests, holding one record created beforehand."""
        suite = cls()  # an instance of its own: the class outlives the instance each test gets
        suite.issuer = dev_issuer
        topics = [suite.topic, *suite.more_topics]
        async with own_service(
            suite.settings_type,
            suite.create_app,
            infrastructure,
            topics,
            issuer=dev_issuer,
            **suite.settings_overrides,
        ) as service:
            created = await suite.create(service.client, 0)
            yield SharedRecord(service, created[suite.id_field], suite.owner(0))

    # -- the events on the topic ----------------------------------------------------------------------------------

    async def test_a_created_record_produces_exactly_one_event_keyed_by_its_id_with_the_full_answers_and_no_contact(
        self, infrastructure: Infrastructure, service: RunningService
    ) -> None:
        created = await self.create(service.client, 0)
        assert created == {self.id_field: created[self.id_field], "revision": 1}, "no credential comes back"

        [record] = await self.records(infrastructure, service.settings, 1)
        assert record.key == created[self.id_field].encode()
        event = parse_event(record.topic, record.value, record.headers, key=record.key)
        assert isinstance(event, self.submitted_event)
        assert getattr(event, self.id_field) == UUID(created[self.id_field]) and event.revision == 1
        submitted = self.payload(0)
        sent = as_json(event)
        assert sent["answers"] == as_json(self.answers_model.model_validate(submitted["answers"])), "all answers travel"
        assert sent["organisation"] == as_json(Organisation.model_validate(submitted["organisation"]))
        assert personal_data_in([record], submitted["contact"]) == []
        assert headers_of(record)["revision"] == "1"

    async def test_a_replacement_produces_the_next_revision_and_a_withdrawal_a_tombstone(
        self, infrastructure: Infrastructure, service: RunningService
    ) -> None:
        client = service.client
        created = await self.create(client, 0)
        record_id = created[self.id_field]
        path = self.record_path(record_id)
        # Another person of the organisation takes over: the contact becomes the one signed in.
        new_contact = {"name": "Jonas Petersen", "email": "jonas.petersen@nordwest-agrifood.example"}
        owner = self.owner(0, email=new_contact["email"])
        new_answers = self.payload(1)["answers"]
        replaced = await client.put(
            path, json={"answers": new_answers, "contact": new_contact}, headers={**owner, "If-Match": '"1"'}
        )
        assert replaced.status_code == 200 and replaced.headers["etag"] == '"2"'
        withdrawn = await client.delete(path, headers={**owner, "If-Match": '"2"'})
        assert withdrawn.status_code == 204 and withdrawn.headers["etag"] == '"3"'

        first, second, tombstone = await self.records(infrastructure, service.settings, 3)
        assert {r.partition for r in (first, second, tombstone)} == {first.partition}, (
            "one key, one partition: consumers see the changes in order"
        )
        replacement = parse_event(second.topic, second.value, second.headers, key=second.key)
        assert replacement.revision == 2
        assert as_json(replacement)["answers"] == as_json(self.answers_model.model_validate(new_answers))
        unchanged = Organisation.model_validate(self.payload(0)["organisation"])
        assert as_json(replacement)["organisation"] == as_json(unchanged), "an unchanged organisation travels in full"
        assert tombstone.value is None and tombstone.key == record_id.encode()
        descriptor = parse_event(tombstone.topic, tombstone.value, tombstone.headers, key=tombstone.key)
        assert isinstance(descriptor, self.withdrawn_event)
        assert descriptor.revision == 3 and descriptor.reason == "withdrawn"
        for contact in (self.payload(0)["contact"], new_contact):
            assert personal_data_in([first, second, tombstone], contact) == []

    async def test_a_replacement_of_the_answers_alone_keeps_the_organisation_and_the_contact(
        self, service: RunningService
    ) -> None:
        created = await self.create(service.client, 1)
        path, owner = self.record_path(created[self.id_field]), self.owner(1)
        replaced = await service.client.put(
            path, json={"answers": self.payload(2)["answers"]}, headers={**owner, "If-Match": '"1"'}
        )
        assert replaced.status_code == 200 and replaced.headers["etag"] == '"2"'
        assert replaced.json()["contact"] == self.payload(1)["contact"]
        assert replaced.json()["organisation"] == self.payload(1)["organisation"]

    async def test_a_withdrawn_record_is_gone_for_everyone(self, service: RunningService) -> None:
        client = service.client
        created = await self.create(client, 2)
        record_id, owner = created[self.id_field], self.owner(2)
        path = self.record_path(record_id)
        assert (await client.delete(path, headers={**owner, "If-Match": '"1"'})).status_code == 204

        assert (await client.get(path, headers=owner)).status_code == 404
        if self.public_read:
            assert (await client.get(path)).status_code == 404
        internal = await client.get(f"{self.contacts_path}/{record_id}", headers=bearer(SERVICE_TEST_TOKEN))
        assert internal.status_code == 404, "the notifier writes to no one about a withdrawn record"
        again = await client.put(
            path, json={"answers": self.payload(2)["answers"]}, headers={**owner, "If-Match": '"2"'}
        )
        assert again.status_code == 404
        stored = await service.app.state.repository.collection.find_one({"_id": record_id})
        assert stored["contact"] is None, "a withdrawn record's personal data is not kept"

    async def test_the_owner_reads_its_record_with_the_contact_and_an_etag(self, service: RunningService) -> None:
        created = await self.create(service.client, 2)
        response = await service.client.get(self.record_path(created[self.id_field]), headers=self.owner(2))
        assert response.status_code == 200 and response.headers["etag"] == '"1"'
        body = response.json()
        assert body["contact"] == self.payload(2)["contact"]
        assert body["partnership"] == self.payload(2)["partnership"]
        assert body["answers"] == self.payload(2)["answers"]
        assert body[self.id_field] == created[self.id_field]

    async def test_the_notifier_reads_a_contact_card_with_the_internal_token_only(
        self, service: RunningService
    ) -> None:
        client = service.client
        created = await self.create(client, 3)
        path = f"{self.contacts_path}/{created[self.id_field]}"
        card = await client.get(path, headers=bearer(SERVICE_TEST_TOKEN))
        assert card.status_code == 200
        assert card.json() == {
            "id": created[self.id_field],
            "kind": self.contact_kind,
            "organisation": self.payload(3)["organisation"],
            "contact": self.payload(3)["contact"],
            "languages": self.payload(3)["answers"]["languages"],
        }
        for headers in ({}, bearer("wrong-token"), self.owner(3)):
            refused = await client.get(path, headers=headers)
            assert refused.status_code == 401 and "Bearer" in refused.headers["www-authenticate"]
        unknown = await client.get(f"{self.contacts_path}/{UNKNOWN}", headers=bearer(SERVICE_TEST_TOKEN))
        assert unknown.status_code == 404

    async def test_another_service_reads_a_records_facts_with_the_internal_token_only_and_never_the_contact(
        self, service: RunningService
    ) -> None:
        client = service.client
        created = await self.create(client, 3)
        record_id, internal = created[self.id_field], bearer(SERVICE_TEST_TOKEN)
        path = f"{self.contacts_path.replace('/internal/contacts', '/internal/records')}/{record_id}"
        facts = await client.get(path, headers=internal)
        assert facts.status_code == 200, facts.text
        body = facts.json()
        owner = jwt.decode(self.owner(3)["Authorization"].split()[1], options={"verify_signature": False})
        assert body == {
            "id": record_id,
            "kind": self.contact_kind,
            "owner": owner["organisation"],
            "partnership": self.payload(3)["partnership"],
            "organisation": self.payload(3)["organisation"],
            "answers": self.payload(3)["answers"],
            "revision": 1,
            "active": True,
        }
        assert self.payload(3)["contact"]["email"] not in facts.text
        for headers in ({}, bearer("wrong-token"), self.owner(3)):
            assert (await client.get(path, headers=headers)).status_code == 401
        assert (
            await client.delete(self.record_path(record_id), headers={**self.owner(3), "If-Match": '"1"'})
        ).status_code == 204
        withdrawn = (await client.get(path, headers=internal)).json()
        assert withdrawn["active"] is False and withdrawn["revision"] == 2
        unknown = path.replace(record_id, UNKNOWN)
        assert (await client.get(unknown, headers=internal)).status_code == 404

    async def test_responses_holding_the_contact_are_never_cached(self, service: RunningService) -> None:
        owner = self.owner(1)
        response = await service.client.post(self.path, json=self.payload(1), headers=owner)
        assert response.headers["cache-control"] == "no-store"
        created = response.json()
        path = self.record_path(created[self.id_field])
        listed = await service.client.get(self.list_path, headers=owner)
        assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
        for suffix in ("", *self.owner_reads):
            read = await service.client.get(path + suffix, headers=owner)
            assert read.status_code == 200 and read.headers["cache-control"] == "no-store"
            assert read.headers["vary"] == "Authorization"

    # -- the owner routes -----------------------------------------------------------------------------------------

    async def test_a_stale_if_match_gets_412_and_changes_nothing(
        self, infrastructure: Infrastructure, service: RunningService
    ) -> None:
        client, repository = service.client, service.app.state.repository
        created = await self.create(client, 0)
        record_id, owner = created[self.id_field], self.owner(0)
        path = self.record_path(record_id)
        first = await client.put(
            path, json={"answers": self.payload(1)["answers"]}, headers={**owner, "If-Match": '"1"'}
        )
        assert first.status_code == 200
        topic = service.settings.topic(self.topic)
        await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 2)
        stored_before = await settled_document(repository.collection, record_id)

        # A second writer still holding revision 1 (a lost update, were it let through), and one from the future.
        later = {"answers": self.payload(2)["answers"]}
        stale_put = await client.put(path, json=later, headers={**owner, "If-Match": '"1"'})
        stale_delete = await client.delete(path, headers={**owner, "If-Match": '"1"'})
        future = await client.put(path, json=later, headers={**owner, "If-Match": '"7"'})
        for response in (stale_put, stale_delete, future):
            assert response.status_code == 412
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["current_revision"] == 2 and response.headers["etag"] == '"2"'

        assert await repository.collection.find_one({"_id": record_id}) == stored_before
        read = await client.get(path, headers=owner)
        assert read.headers["etag"] == '"2"' and read.json()["answers"] == self.payload(1)["answers"]
        assert await service.app.state.relay.pending_count() == 0
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 2

    async def test_another_organisations_token_gets_404_on_every_owner_route(self, service: RunningService) -> None:
        client = service.client
        mine = await self.create(client, 0)
        await self.create(client, 1)
        intruder = self.owner(1)
        details = []
        for record_id in (mine[self.id_field], UNKNOWN):
            path = self.record_path(record_id)
            responses = [
                await client.put(
                    path, json={"answers": self.payload(1)["answers"]}, headers={**intruder, "If-Match": '"1"'}
                ),
                await client.delete(path, headers={**intruder, "If-Match": '"1"'}),
                *[await client.get(path + suffix, headers=intruder) for suffix in self.owner_reads],
            ]
            if not self.public_read:
                responses.append(await client.get(path, headers=intruder))
            assert [r.status_code for r in responses] == [404] * len(responses)
            assert all("contact" not in r.text and self.payload(0)["contact"]["name"] not in r.text for r in responses)
            details.append([r.json()["detail"] for r in responses])
        assert details[0] == details[1], "someone else's record reads exactly like a missing one"

        path = self.record_path(mine[self.id_field])
        if self.public_read:
            read = await client.get(path, headers=intruder)
            assert read.status_code == 200 and "contact" not in read.json()
        own = await client.get(path, headers=self.owner(0))
        assert own.json()["revision"] == 1 and own.json()["answers"] == self.payload(0)["answers"]

    async def test_a_create_retried_with_its_idempotency_key_returns_the_first_record_and_publishes_one_event(
        self, infrastructure: Infrastructure, service: RunningService
    ) -> None:
        client, key = service.client, f"retry-{uuid4()}"
        headers = {**self.owner(0), "Idempotency-Key": key}
        first = await client.post(self.path, json=self.payload(0), headers=headers)
        assert first.status_code == 201, first.text
        # Retries, some at once (a client that timed out and a proxy that resent): one record, the first one.
        retries = await asyncio.gather(
            *(client.post(self.path, json=self.payload(0), headers=headers) for _ in range(4))
        )
        assert [r.status_code for r in retries] == [201] * 4
        assert {r.json()[self.id_field] for r in retries} == {first.json()[self.id_field]}
        assert all(r.json()["revision"] == 1 and r.headers["location"] == first.headers["location"] for r in retries)

        other = await client.post(self.path, json=self.payload(1), headers={**self.owner(1), "Idempotency-Key": key})
        assert other.status_code == 201 and other.json()[self.id_field] != first.json()[self.id_field], (
            "a key is the caller's own: another organisation using the same text creates its own record"
        )
        changed = await client.post(
            self.path, json=self.payload(0, organisation=self.payload(1)["organisation"]), headers=headers
        )
        assert changed.status_code == 422
        assert [e["field"] for e in changed.json()["errors"]] == ["Idempotency-Key"]
        assert await service.app.state.repository.count() == 2, "one record per key and organisation, nothing more"
        records = await self.records(infrastructure, service.settings, 2)
        assert sorted(r.key for r in records) == sorted(
            [first.json()[self.id_field].encode(), other.json()[self.id_field].encode()]
        )

    @pytest.mark.parametrize("key", ["", "has space", "x" * 256])
    async def test_a_malformed_idempotency_key_is_refused_naming_it(self, service: RunningService, key: str) -> None:
        response = await service.client.post(
            self.path, json=self.payload(0), headers={**self.owner(0), "Idempotency-Key": key}
        )
        assert response.status_code == 422, response.text
        assert "Idempotency-Key" in [e["field"] for e in response.json()["errors"]]
        assert await service.app.state.repository.count() == 0

    async def test_every_owner_route_without_a_token_is_401_with_a_bearer_challenge(
        self, service: RunningService
    ) -> None:
        client = service.client
        created = await self.create(client, 2)
        path = self.record_path(created[self.id_field])
        responses = [
            await client.post(self.path, json=self.payload(2)),
            await client.put(path, json={"answers": self.payload(2)["answers"]}, headers={"If-Match": '"1"'}),
            await client.delete(path, headers={"If-Match": '"1"'}),
            await client.get(self.list_path),
            *[await client.get(path + suffix) for suffix in self.owner_reads],
        ]
        if not self.public_read:
            responses.append(await client.get(path))
        for response in responses:
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer realm="clusterxchange"'
        assert (await client.get(path, headers=self.owner(2))).json()["revision"] == 1

    async def test_a_replacement_may_change_organisation_contact_and_partnership_and_the_owner_sees_them(
        self, service: RunningService
    ) -> None:
        client = service.client
        created = await self.create(client, 4)
        path = self.record_path(created[self.id_field])
        organisation = {**self.payload(4)["organisation"], "city": "Stavanger"}
        contact = {"name": "Kari Nordmann", "email": "kari@vestland-offshorewind.example"}
        owner = self.owner(4, email=contact["email"])
        document = {
            "answers": self.payload(4)["answers"],
            "organisation": organisation,
            "contact": {"name": contact["name"]},  # the address is the one signed in with
            "partnership": "escp-4x-13",
        }
        response = await client.put(path, json=document, headers={**owner, "If-Match": '"1"'})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["revision"] == 2 and body["organisation"]["city"] == "Stavanger" and body["contact"] == contact
        assert body["partnership"] == "escp-4x-13"
        assert (await client.get(path, headers=owner)).json()["contact"] == contact
        if self.public_read:
            assert "contact" not in (await client.get(path)).json()

    # -- who may create, read, change and list what --------------------------------------------------------------

    async def test_only_a_signed_in_organisation_with_a_verified_email_creates_and_it_owns_the_record(
        self, service: RunningService
    ) -> None:
        client, body = service.client, self.payload(0)
        anonymous = await client.post(self.path, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == 'Bearer realm="clusterxchange"'
        for refused in (
            await client.post(self.path, json=body, headers=self.manager(body["partnership"])),
            await client.post(self.path, json=body, headers=self.owner(0, email_verified=False)),
        ):
            problem_of(refused, 403, None)
        assert await service.app.state.repository.count() == 0, "nothing stored"

        created = await self.create(client, 0)
        stored = await service.app.state.repository.collection.find_one({"_id": created[self.id_field]})
        token = self.owner(0)["Authorization"].removeprefix("Bearer ")
        assert stored["owner"] == jwt.decode(token, options={"verify_signature": False})["organisation"]
        assert stored["partnership"] == body["partnership"] and "partnership" not in stored["answers"]

    async def test_the_contact_address_is_the_one_signed_in_with_or_the_request_is_refused_naming_it(
        self, service: RunningService
    ) -> None:
        client = service.client
        body = self.payload(1)
        left_out = {**body, "contact": {"name": body["contact"]["name"]}}
        created = await created_with(client, self.path, left_out, self.owner(1))
        path = self.record_path(created[self.id_field])
        assert (await client.get(path, headers=self.owner(1))).json()["contact"] == body["contact"]

        someone_else = {**body, "contact": {**body["contact"], "email": "victim@elsewhere.example"}}
        problem = problem_of(
            await client.post(self.path, json=someone_else, headers=self.owner(1)), 422, "contact.email"
        )
        assert problem["errors"][0]["message"] == "Must be the address you signed in with"
        change = {"answers": body["answers"], "contact": {"name": "Ann Other", "email": "victim@elsewhere.example"}}
        problem_of(
            await client.put(path, json=change, headers={**self.owner(1), "If-Match": '"1"'}), 422, "contact.email"
        )
        unverified = self.owner(1, email_verified=False)
        problem_of(await client.put(path, json=change, headers={**unverified, "If-Match": '"1"'}), 403, None)
        answers_only = await client.put(
            path, json={"answers": body["answers"]}, headers={**unverified, "If-Match": '"1"'}
        )
        assert answers_only.status_code == 200, "changing the answers needs no verified address"
        assert answers_only.json()["contact"] == body["contact"]
        assert await service.app.state.repository.count() == 1

    async def test_a_manager_of_the_partnership_reads_in_the_owners_view_and_changes_nothing(
        self, service: RunningService
    ) -> None:
        client = service.client
        created = await self.create(client, 0)
        path = self.record_path(created[self.id_field])
        inside, outside = self.manager(self.payload(0)["partnership"]), self.manager("escp-4x-12")

        read = await client.get(path, headers=inside)
        assert read.status_code == 200 and read.json()["contact"] == self.payload(0)["contact"]
        assert read.headers["cache-control"] == "no-store"
        for suffix in self.owner_reads:
            assert (await client.get(path + suffix, headers=inside)).status_code == 200
        change = {"answers": self.payload(1)["answers"]}
        problem_of(await client.put(path, json=change, headers={**inside, "If-Match": '"1"'}), 403, None)
        problem_of(await client.delete(path, headers={**inside, "If-Match": '"1"'}), 403, None)

        outsider_read = await client.get(path, headers=outside)
        if self.public_read:
            assert outsider_read.status_code == 200 and "contact" not in outsider_read.json()
        else:
            problem_of(outsider_read, 404, None)
        for suffix in self.owner_reads:
            problem_of(await client.get(path + suffix, headers=outside), 404, None)
        problem_of(await client.put(path, json=change, headers={**outside, "If-Match": '"1"'}), 404, None)
        problem_of(await client.delete(path, headers={**outside, "If-Match": '"1"'}), 404, None)
        assert (await client.get(path, headers=self.owner(0))).json()["revision"] == 1, "nothing changed"

    async def test_the_private_list_holds_the_callers_own_records_and_for_a_manager_its_partnerships(
        self, service: RunningService
    ) -> None:
        client = service.client
        first = await self.create(client, 0)
        second = await self.create(client, 0, partnership="escp-4x-11")
        other = await self.create(client, 1, partnership="escp-4x-11")
        gone = await self.create(client, 0)
        withdrawal = await client.delete(
            self.record_path(gone[self.id_field]), headers={**self.owner(0), "If-Match": '"1"'}
        )
        assert withdrawal.status_code == 204

        async def listed(headers: dict[str, str], **params: Any) -> dict[str, Any]:
            response = await client.get(self.list_path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            page: dict[str, Any] = response.json()
            return page

        mine = await listed(self.owner(0))
        assert [item[self.id_field] for item in mine["items"]] == [first[self.id_field], second[self.id_field]]
        assert mine["total"] == 2 and mine["items"][0]["contact"] == self.payload(0)["contact"]
        paged = await listed(self.owner(0), page=2, page_size=1)
        assert (paged["total"], paged["page"], paged["page_size"]) == (2, 2, 1)
        assert [item[self.id_field] for item in paged["items"]] == [second[self.id_field]]
        theirs = await listed(self.owner(1))
        assert [item[self.id_field] for item in theirs["items"]] == [other[self.id_field]]
        managed = await listed(self.manager("escp-4x-11"))
        assert {item[self.id_field] for item in managed["items"]} == {second[self.id_field], other[self.id_field]}
        assert (await listed(self.manager("escp-4x-12")))["total"] == 0
        assert (await listed(self.owner(2)))["items"] == []

        anonymous = await client.get(self.list_path)
        assert anonymous.status_code == 401
        problem_of(await client.get(self.list_path, params={"page_size": 101}, headers=self.owner(0)), 422, "page_size")
        problem_of(await client.get(self.list_path, params={"owner": "x"}, headers=self.owner(0)), 422, "owner")

    # -- nothing lost between the write and the publish -----------------------------------------------------------

    async def test_a_record_written_while_the_relay_is_stopped_is_published_once_after_a_restart(
        self, infrastructure: Infrastructure, settings: ServiceSettings
    ) -> None:
        app = self.create_app(settings)
        async with serving(app) as client:
            await app.state.relay.stop()  # the process is as good as dead between the write and the publish
            created = await self.create(client, 0)
            record_id = created[self.id_field]
            [queued] = await _outbox_of(app.state.repository.collection, record_id)
        topic = settings.topic(self.topic)
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 0, "not published before the restart"

        restarted = self.create_app(settings)
        async with serving(restarted):

            async def drained() -> bool:
                return await restarted.state.relay.pending_count() == 0

            await wait_until(drained, message="the restarted relay drained the outbox")

        records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 1
        assert records[0].key == record_id.encode()
        assert headers_of(records[0])["event_id"] == queued["event_id"], "the event written with the record"
        assert _applied_once(records) == [queued["event_id"]]

    async def test_a_process_killed_after_the_write_and_before_the_publish_publishes_once_after_it_restarts(
        self, infrastructure: Infrastructure, tmp_path: Any
    ) -> None:
        namespace = topic_namespace()
        database = unique(self.collection).replace("-", "_")
        port = free_port()
        prefix = self.settings_type.model_config.get("env_prefix", "")
        env = {
            f"{prefix}ENVIRONMENT": "test",
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap,
            f"{prefix}MONGO_URL": infrastructure.mongo_url,
            f"{prefix}MONGO_DATABASE": database,
            f"{prefix}TOPIC_NAMESPACE": namespace,
            f"{prefix}INTERNAL_TOKEN": SERVICE_TEST_TOKEN,
            f"{prefix}OIDC_ISSUER": self.issuer.url,
            f"{prefix}OUTBOX_LEASE_S": "1",
            f"{prefix}OUTBOX_POLL_INTERVAL_S": "0.2",
        }
        log = str(tmp_path / f"{self.package}.log")
        store = connect_mongo(infrastructure.mongo_url, "cx-tests")
        stored = store[database][self.collection]

        async def claimed_by_the_relay() -> bool:
            document = await stored.find_one({"_id": record_id})
            return bool(document and document.get("outbox") and document.get("outbox_lease"))

        async def outbox_empty() -> bool:
            document = await stored.find_one({"_id": record_id})
            return document is not None and document["outbox"] == []

        # The topic does not exist yet (and the broker creates none by itself), so the relay cannot publish:
        # the process is caught between the MongoDB write and the publish when it is killed.
        first = ServiceProcess(self.package, env, port, log)
        second = ServiceProcess(self.package, env, port, log)
        try:
            first.start()
            await first.wait_ready()
            async with httpx.AsyncClient(base_url=first.url, timeout=10) as client:
                created = await self.create(client, 1)
            record_id = created[self.id_field]
            await wait_until(claimed_by_the_relay, message="the relay trying to publish")
            first.kill()
            [queued] = await _outbox_of(stored, record_id)

            topic = namespace + self.topic
            await ensure_namespaced_topics(infrastructure.kafka_bootstrap, namespace, [self.topic])
            assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 0
            second.start()
            await second.wait_ready()
            await wait_until(outbox_empty, timeout=30, message="published after the restart")

            records = await read_topic(infrastructure.kafka_bootstrap, topic, until=lambda r: len(r) >= 1)
            assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 1
            assert records[0].key == record_id.encode()
            assert headers_of(records[0])["event_id"] == queued["event_id"]
            assert _applied_once(records) == [queued["event_id"]]
        finally:
            first.kill()
            second.stop()
            await store.drop_database(database)
            await store.close()

    # -- an unreachable store -------------------------------------------------------------------------------------

    async def test_with_the_store_unreachable_requests_are_503_and_readiness_fails(
        self, infrastructure: Infrastructure, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Nothing listens on the port; a short server-selection wait keeps the test quick.
        monkeypatch.setitem(cx_kit.mongo.CLIENT_OPTIONS, "serverSelectionTimeoutMS", 300)
        settings = self.settings_type(
            environment="test",
            kafka_bootstrap_servers=infrastructure.kafka_bootstrap,
            mongo_url=SecretStr(f"mongodb://127.0.0.1:{free_port()}"),
            topic_namespace="toutage.",
            oidc_issuer=self.issuer.url,
        )
        unknown = self.record_path(UNKNOWN)
        # A genuine token: the request reaches the store (a public read needs none).
        owner = self.owner(0)
        reader = {} if self.public_read else owner
        async with serving(self.create_app(settings)) as client:
            responses = [
                await client.post(self.path, json=self.payload(0), headers=owner),
                await client.get(unknown, headers=reader),
                await client.get(self.list_path, headers=owner),
                *[await client.get(unknown + suffix, headers=owner) for suffix in self.owner_reads],
                *[await client.get(path) for path in self.public_reads],
            ]
            for response in responses:
                assert response.status_code == 503
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["retry-after"] == "5"
            assert (await client.get("/readyz")).json()["checks"]["mongodb"] == "down"

    # -- hostile requests: each a 4xx naming the field at fault; nothing stored or published ----------------------
    # One service serves them all, holding one record created beforehand: after every request the store holds
    # exactly that record at revision 1, and at the end (the last test of the suite) its topic its one event.

    async def nothing_changed(self, shared: SharedRecord) -> None:
        """The shared record is the only one, still at revision 1 with its first answers."""
        repository = shared.service.app.state.repository
        assert await repository.count() == 1, "nothing new stored"
        stored = await repository.collection.find_one({"_id": shared.record_id})
        assert stored["revision"] == 1 and stored["answers"] == self.payload(0)["answers"], "the record is untouched"

    async def test_a_broken_record_is_refused_naming_the_field(
        self, shared: SharedRecord, broken: HostileInput
    ) -> None:
        body = mutated(self.payload(0), broken.path, broken.value)
        problem_of(await shared.service.client.post(self.path, json=body, headers=shared.owner), 422, broken.field)
        await self.nothing_changed(shared)

    async def test_a_broken_replacement_is_refused_naming_the_field(
        self, shared: SharedRecord, broken_update: tuple[HostileInput, str]
    ) -> None:
        case, shape = broken_update
        update = {"answers": self.payload(1)["answers"]}
        if shape == "everything":
            update |= {"organisation": self.payload(0)["organisation"], "contact": self.payload(0)["contact"]}
        response = await shared.service.client.put(
            self.record_path(shared.record_id),
            json=mutated(update, case.path, case.value),
            headers={**shared.owner, "If-Match": '"1"'},
        )
        problem_of(response, 422, case.field)
        await self.nothing_changed(shared)

    @pytest.mark.parametrize("bad_id", HOSTILE_IDS)
    async def test_an_id_that_is_not_a_uuid_is_refused_naming_it(
        self, shared: SharedRecord, record_route: str, bad_id: str
    ) -> None:
        client = shared.service.client
        owner = {**shared.owner, "If-Match": '"1"'}
        path = self.record_path(bad_id)
        if record_route == "GET":
            response = await client.get(path, headers={} if self.public_read else owner)
        elif record_route == "PUT":
            response = await client.put(path, headers=owner, json={"answers": self.payload(1)["answers"]})
        elif record_route == "DELETE":
            response = await client.delete(path, headers=owner)
        elif record_route == "INTERNAL":
            response = await client.get(f"{self.contacts_path}/{bad_id}", headers=bearer(SERVICE_TEST_TOKEN))
        else:
            response = await client.get(path + record_route, headers=owner)
        problem_of(response, 422, self.id_field)
        await self.nothing_changed(shared)

    @pytest.mark.parametrize("if_match", HOSTILE_IF_MATCH)
    @pytest.mark.parametrize("method", ["PUT", "DELETE"])
    async def test_a_malformed_if_match_is_refused_naming_it(
        self, shared: SharedRecord, method: str, if_match: str
    ) -> None:
        headers = {**shared.owner, "If-Match": if_match}
        problem_of(await self._write(shared, method, headers), 422, "If-Match")
        await self.nothing_changed(shared)

    @pytest.mark.parametrize("method", ["PUT", "DELETE"])
    async def test_a_write_without_if_match_is_428_naming_it(self, shared: SharedRecord, method: str) -> None:
        problem_of(await self._write(shared, method, shared.owner), 428, "If-Match")
        await self.nothing_changed(shared)

    @pytest.mark.parametrize("authorization", HOSTILE_AUTHORIZATION)
    async def test_an_owner_route_with_a_malformed_credential_is_401(
        self, shared: SharedRecord, owner_route: str, authorization: str
    ) -> None:
        headers = {"Authorization": authorization, "If-Match": '"1"'}
        if owner_route in ("PUT", "DELETE"):
            response = await self._write(shared, owner_route, headers)
        else:
            suffix = "" if owner_route == "GET" else owner_route
            response = await shared.service.client.get(self.record_path(shared.record_id) + suffix, headers=headers)
        problem_of(response, 401, None)
        assert response.headers["www-authenticate"].startswith("Bearer")
        await self.nothing_changed(shared)

    @pytest.mark.parametrize(("label", "content", "content_type"), NOT_JSON, ids=[case[0] for case in NOT_JSON])
    async def test_a_body_that_is_not_a_json_document_is_refused(
        self, shared: SharedRecord, label: str, content: bytes, content_type: str
    ) -> None:
        headers = {**shared.owner, "content-type": content_type}
        response = await shared.service.client.post(self.path, content=content, headers=headers)
        problem_of(response, (400, 422), None)
        await self.nothing_changed(shared)

    @pytest.mark.parametrize("oversized", ["keywords", "free-text"])
    async def test_an_oversized_body_is_413_and_stores_nothing(self, shared: SharedRecord, oversized: str) -> None:
        answers = (
            {"keywords": ["k" * 40] * 10_000} if oversized == "keywords" else {self.free_text_field: "g" * 300_000}
        )
        response = await shared.service.client.post(
            self.path, json=self.payload(0, answers=answers), headers=shared.owner
        )
        problem_of(response, 413, None)
        await self.nothing_changed(shared)

    async def test_after_all_of_it_the_topic_holds_only_the_one_real_event(
        self, infrastructure: Infrastructure, shared: SharedRecord
    ) -> None:
        topic = shared.service.settings.topic(self.topic)
        assert await shared.service.app.state.relay.pending_count() == 0
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic) == 1
        assert await topic_record_count(infrastructure.kafka_bootstrap, topic + ".dlq") == 0

    async def _write(self, shared: SharedRecord, method: str, headers: dict[str, str]) -> httpx.Response:
        path = self.record_path(shared.record_id)
        if method == "PUT":
            return await shared.service.client.put(path, headers=headers, json={"answers": self.payload(1)["answers"]})
        return await shared.service.client.delete(path, headers=headers)


async def _outbox_of(collection: Any, record_id: str) -> list[dict[str, Any]]:
    document = await collection.find_one({"_id": record_id})
    assert document is not None, f"{record_id} is stored"
    entries: list[dict[str, Any]] = document["outbox"]
    return entries


def _applied_once(records: Sequence[Any]) -> list[str]:
    # A consumer applies each event once, by its event_id: what it applies of these records.
    return list(dict.fromkeys(headers_of(record)["event_id"] for record in records))
