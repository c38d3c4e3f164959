"""What the exchanges service's tests share: in-memory stand-ins of the handlers' interfaces (unit tests only),
the example host and visitor as the record services describe them, and callers."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from cx_contracts.api import ContactCard, RecordFacts
from cx_contracts.events import ExchangeEvent, MatchFound
from cx_contracts.examples import application_payload, host_entry_payload
from cx_contracts.exchange import ExchangeRequest, ExchangeState
from cx_kit.ownership import Caller, Role

from cx_exchanges.domain.bookings import Booking
from cx_exchanges.domain.exchange import OPEN, Exchange
from cx_exchanges.handlers import Exchanges, Rules
from cx_exchanges.settings import DEFAULT_GRANT_CAPS_EUR

TODAY = date(2027, 1, 11)
# Monday 15 to Friday 19 March 2027: inside the example host's availability and the example visitor's window.
DATES = {"start": "2027-03-15", "end": "2027-03-19"}
GOALS = "We want to learn how a cluster set up a farm data platform and how it convinced farmers to share data."
AGENDA = "Day one: the living lab. Day two: the data platform. Days three to five: pilots with member companies."


def facts(kind: str, payload: dict[str, Any], owner: str, **answers: Any) -> RecordFacts:
    """The facts a record service gives of an example record."""
    return RecordFacts.model_validate(
        {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "owner": owner,
            "partnership": payload["partnership"],
            "organisation": payload["organisation"],
            "answers": {**payload["answers"], **answers},
            "revision": 1,
            "active": True,
        }
    )


def member(organisation: str) -> Caller:
    """A member of `organisation`, with a verified address."""
    return Caller(
        subject=f"dev:{organisation}", organisation=organisation, email=f"a@{organisation}.example", email_verified=True
    )


def manager(partnership: str | None) -> Caller:
    """A manager of `partnership`."""
    return Caller(subject="dev:office", organisation="office", role=Role.MANAGER, partnership=partnership)


@dataclass
class MemoryStore:
    """`ExchangeStore` in memory, with the events it was given."""

    exchanges: dict[str, Exchange] = field(default_factory=dict)
    events: list[ExchangeEvent] = field(default_factory=list)

    fingerprints: dict[str, str | None] = field(default_factory=dict)

    async def add(
        self, exchange: Exchange, event: ExchangeEvent, traceparent: str | None, fingerprint: str | None = None
    ) -> bool:
        if exchange.id in self.exchanges:
            return False
        self.exchanges[exchange.id] = exchange
        self.fingerprints[exchange.id] = fingerprint
        self.events.append(event)
        return True

    async def first_request(self, exchange_id: str) -> tuple[Exchange, str | None] | None:
        found = self.exchanges.get(exchange_id)
        return None if found is None else (found, self.fingerprints.get(exchange_id))

    async def get(self, exchange_id: str) -> Exchange | None:
        return self.exchanges.get(exchange_id)

    async def save(
        self, after: Exchange, expected_revision: int, event: ExchangeEvent | None, traceparent: str | None
    ) -> bool:
        if self.exchanges[after.id].revision != expected_revision:
            return False
        self.exchanges[after.id] = after
        if event is not None:
            self.events.append(event)
        return True

    async def open_requests(self, application_id: str) -> list[Exchange]:
        return [e for e in self.exchanges.values() if e.visitor.record_id == application_id and e.state in OPEN]

    async def listed(
        self, *, organisation: str | None = None, partnership: str | None = None, skip: int = 0, limit: int = 0
    ) -> tuple[list[Exchange], int]:
        def takes_part(exchange: Exchange) -> bool:
            sides = (exchange.visitor, exchange.host)
            return any(s.owner == organisation if organisation else s.partnership == partnership for s in sides)

        found = sorted(
            (e for e in self.exchanges.values() if takes_part(e)), key=lambda e: e.requested_at, reverse=True
        )
        return found[skip : skip + limit] if limit else found[skip:], len(found)

    async def states(self, exchange_ids: Iterable[str]) -> dict[str, ExchangeState]:
        return {i: self.exchanges[i].state for i in exchange_ids if i in self.exchanges}


@dataclass
class MemoryLedger:
    """`Ledger` in memory, versioned like the real one."""

    ledgers: dict[str, tuple[int, list[Booking]]] = field(default_factory=dict)

    async def read(self, key: str) -> tuple[int, list[Booking]]:
        version, bookings = self.ledgers.get(key, (0, []))
        return version, list(bookings)

    async def write(self, key: str, version: int, bookings: Sequence[Booking]) -> bool:
        if self.ledgers.get(key, (0, []))[0] != version:
            return False
        self.ledgers[key] = (version + 1, list(bookings))
        return True


@dataclass
class MemoryProposals:
    """`Proposals` in memory."""

    hosts_of: dict[str, list[str]] = field(default_factory=dict)

    async def keep(self, run: MatchFound) -> bool:
        self.hosts_of[str(run.application_id)] = [str(m.host_id) for m in run.matches]
        return True

    async def hosts(self, application_id: str) -> list[str]:
        return self.hosts_of.get(application_id, [])


@dataclass
class MemoryRecords:
    """`Records` in memory: facts and contact cards of the records it holds."""

    held: dict[str, RecordFacts] = field(default_factory=dict)
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, record: RecordFacts, contact: dict[str, str]) -> RecordFacts:
        self.held[str(record.id)] = record
        self.contacts[str(record.id)] = contact
        return record

    def change(self, record_id: str, **changes: Any) -> None:
        self.held[record_id] = self.held[record_id].model_copy(update=changes)

    async def facts(self, kind: str, record_id: str) -> RecordFacts | None:
        return self.held.get(record_id)

    async def contact(self, kind: str, record_id: str) -> ContactCard | None:
        record = self.held.get(record_id)
        if record is None or not record.active:
            return None
        return ContactCard(
            id=record.id, kind=record.kind, organisation=record.organisation, contact=self.contacts[record_id]
        )


@dataclass
class MemoryDistances:
    """`Distances` in memory: one distance for every pair."""

    km: float | None = 1650.0

    async def between(self, first: Mapping[str, Any], second: Mapping[str, Any]) -> float | None:
        return self.km


@dataclass
class FixedClock:
    """A clock whose day the test sets."""

    day: date = TODAY

    def today(self) -> date:
        return self.day


@dataclass
class Desk:
    """The use cases on stand-ins, with the example host and visitor known to the record services."""

    exchanges: Exchanges
    store: MemoryStore
    hosts: MemoryLedger
    visitors: MemoryLedger
    proposals: MemoryProposals
    records: MemoryRecords
    distances: MemoryDistances
    clock: FixedClock
    host: RecordFacts
    application: RecordFacts
    # The example organisations, what they write, and the day the tests start on.
    visitor_org: str = "sofia-foodtech-cluster"
    host_org: str = "nordwest-agrifood"
    today: date = TODAY
    goals: str = GOALS
    agenda: str = AGENDA

    member = staticmethod(member)
    manager = staticmethod(manager)
    facts = staticmethod(facts)

    def another_application(self, owner: str, **answers: Any) -> RecordFacts:
        """An application of another visiting organisation, proposed the same host."""
        payload = copy.deepcopy(application_payload(0))
        payload["organisation"]["name"] = f"{owner} cluster"
        record = self.records.add(
            facts("visitor", payload, owner, **answers), {"name": "Ana Novak", "email": f"ana@{owner}.example"}
        )
        self.proposals.hosts_of[str(record.id)] = [str(self.host.id)]
        return record

    def request_body(self, application: RecordFacts | None = None, **changes: Any) -> ExchangeRequest:
        """A valid request of the example visitor (or `application`) to the example host."""
        document = {
            "application_id": str((application or self.application).id),
            "host_id": str(self.host.id),
            "dates": DATES,
            "format": "physical",
            "participants": 2,
            "goals": GOALS,
            "message": "We would love to visit you in March.",
            **changes,
        }
        return ExchangeRequest.model_validate(document)


@pytest.fixture
def desk() -> Desk:
    """The use cases on in-memory stand-ins."""
    store, hosts, visitors = MemoryStore(), MemoryLedger(), MemoryLedger()
    proposals, records, distances, clock = MemoryProposals(), MemoryRecords(), MemoryDistances(), FixedClock()
    host_payload, visitor_payload = host_entry_payload(0), application_payload(0)
    host = records.add(facts("host", host_payload, Desk.host_org), host_payload["contact"])
    application = records.add(facts("visitor", visitor_payload, Desk.visitor_org), visitor_payload["contact"])
    proposals.hosts_of[str(application.id)] = [str(host.id)]
    rules = Rules(
        caps_cents={c: v * 100 for c, v in DEFAULT_GRANT_CAPS_EUR.items()}, booking_lease=timedelta(seconds=60)
    )
    exchanges = Exchanges(
        store,
        hosts=hosts,
        visitors=visitors,
        proposals=proposals,
        records=records,
        distances=distances,
        clock=clock,
        rules=rules,
    )
    return Desk(exchanges, store, hosts, visitors, proposals, records, distances, clock, host, application)
