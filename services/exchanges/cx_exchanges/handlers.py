"""The exchanges service's use cases: request, read, list, accept, decline, withdraw, agree, report, and keeping
each application's proposed hosts; each works through the interfaces declared here.

A step reads the exchange at the revision the caller names (If-Match), lets the domain decide, and stores the
exchange with its event in one guarded write. Acceptance first books what the exchange takes up (the visitor
organisation's one physical exchange, the host's capacity on its days), each in its own ledger document by a
guarded write, and frees it again when the acceptance does not go through.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal, Protocol, TypedDict

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from cx_contracts.api import ContactCard, PageQuery, RecordFacts
from cx_contracts.events import ExchangeEvent, MatchFound
from cx_contracts.exchange import (
    Confirmation,
    ExchangeParty,
    ExchangeRequest,
    ExchangeState,
    ExchangeSummary,
    ExchangeTotals,
    ExchangeView,
    Grant,
    PartyContact,
    Side,
)
from cx_kit.aggregates import idempotent_id, stored_now
from cx_kit.ownership import Caller, overseen_sides, own_sides

from cx_exchanges.domain import exchange as steps_of
from cx_exchanges.domain.bookings import Booking, host_bookings_with, live, visitor_bookings_with, without
from cx_exchanges.domain.exchange import Acting, Exchange, ExchangeSide, Refusal
from cx_exchanges.domain.grant import grant
from cx_exchanges.domain.steps import next_steps, totals

logger = logging.getLogger(__name__)

Kind = Literal["host", "visitor"]


class ExchangeStore(Protocol):
    """Where exchanges are kept, each with its pending events."""

    async def add(
        self, exchange: Exchange, event: ExchangeEvent, traceparent: str | None, fingerprint: str | None = None
    ) -> bool: ...

    async def first_request(self, exchange_id: str) -> tuple[Exchange, str | None] | None: ...

    async def get(self, exchange_id: str) -> Exchange | None: ...

    async def save(
        self, after: Exchange, expected_revision: int, event: ExchangeEvent | None, traceparent: str | None
    ) -> bool: ...

    async def open_requests(self, application_id: str) -> list[Exchange]: ...

    async def listed(
        self, *, organisation: str | None = None, partnership: str | None = None, skip: int = 0, limit: int = 0
    ) -> tuple[list[Exchange], int]: ...

    async def states(self, exchange_ids: Iterable[str]) -> dict[str, ExchangeState]: ...


class Ledger(Protocol):
    """Bookings kept in one document per key (a host, a visiting organisation), changed by guarded writes."""

    async def read(self, key: str) -> tuple[int, list[Booking]]: ...

    async def write(self, key: str, version: int, bookings: Sequence[Booking]) -> bool: ...


class Proposals(Protocol):
    """The hosts the matcher's latest run proposed to each application."""

    async def keep(self, run: MatchFound) -> bool: ...

    async def hosts(self, application_id: str) -> list[str]: ...


class Records(Protocol):
    """The record-owning services' internal routes: a record's facts, its contact card."""

    async def facts(self, kind: Kind, record_id: str) -> RecordFacts | None: ...

    async def contact(self, kind: Kind, record_id: str) -> ContactCard | None: ...


class Distances(Protocol):
    """How far apart two organisations' cities are."""

    async def between(self, first: Mapping[str, Any], second: Mapping[str, Any]) -> float | None: ...


class Clock(Protocol):
    """What day it is for the scheme's date rules."""

    def today(self) -> date: ...


class StaleExchange(Exception):
    """The exchange is at another revision than the caller read: nothing changed."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"expected revision {expected}, found {current}")
        self.expected = expected
        self.current = current


class LedgerMoved(Exception):
    """A ledger changed between its read and its write: read it again."""


@dataclass(frozen=True)
class Rules:
    """The service's configured rules: the lump sum of each host country, how long a booking waits for its
    acceptance."""

    caps_cents: Mapping[str, int]
    booking_lease: timedelta


# States in which both sides see each other's contact.
CONTACTS_SHOWN = frozenset({ExchangeState.ACCEPTED, ExchangeState.AGREED, ExchangeState.COMPLETED})
ESTIMATED = frozenset({ExchangeState.REQUESTED, ExchangeState.ACCEPTED})
KINDS: dict[Side, Kind] = {"visitor": "visitor", "host": "host"}


def acting_for(caller: Caller, exchange: Exchange) -> Acting:
    """For whom the caller acts on the exchange (decided by cx_kit.ownership on the exchange's two sides)."""
    return Acting(own_sides(caller, exchange.sides), overseen_sides(caller, exchange.sides))


class Exchanges:
    """The use cases of contact requests and exchanges."""

    def __init__(
        self,
        store: ExchangeStore,
        *,
        hosts: Ledger,
        visitors: Ledger,
        proposals: Proposals,
        records: Records,
        distances: Distances,
        clock: Clock,
        rules: Rules,
    ) -> None:
        self._store = store
        self._hosts = hosts
        self._visitors = visitors
        self._proposals = proposals
        self._records = records
        self._distances = distances
        self._clock = clock
        self._rules = rules

    # -- what the matcher proposes --------------------------------------------------------------------------------

    async def on_match_found(self, run: MatchFound) -> bool:
        """Keep the run's hosts as its application's proposed hosts, if it is the latest run."""
        return await self._proposals.keep(run)

    # -- the request ----------------------------------------------------------------------------------------------

    async def request(
        self,
        caller: Caller,
        request: ExchangeRequest,
        traceparent: str | None,
        idempotency: tuple[str, str] | None = None,
    ) -> Exchange:
        """A visitor asks a host proposed to its application for an exchange.

        With `idempotency` (the request's Idempotency-Key and a fingerprint of its body), a retry gives back the
        exchange the first request made (at its first revision), whatever happened to it since, and stores and
        publishes nothing; the same key with another body is refused naming the header."""
        if caller.is_manager:
            raise Refusal("forbidden", "A partnership manager does not request exchanges; sign in as the visitor.")
        if idempotency is None:
            return await self._request(caller, request, traceparent, str(uuid.uuid4()), None)
        exchange_id = idempotent_id(caller.organisation, idempotency[0])
        if first := await self._first_request(exchange_id, idempotency[1]):
            return first
        try:
            return await self._request(caller, request, traceparent, exchange_id, idempotency[1])
        except Refusal:
            # A retry sent at the same time may have stored it meanwhile (its open request refuses this one).
            if first := await self._first_request(exchange_id, idempotency[1]):
                return first
            raise

    async def _request(
        self,
        caller: Caller,
        request: ExchangeRequest,
        traceparent: str | None,
        exchange_id: str,
        fingerprint: str | None,
    ) -> Exchange:
        application, host, proposed = await asyncio.gather(
            self._records.facts("visitor", str(request.application_id)),
            self._records.facts("host", str(request.host_id)),
            self._proposals.hosts(str(request.application_id)),
        )
        exchange = steps_of.request_exchange(
            request,
            exchange_id=exchange_id,
            caller=caller.organisation,
            application=application,
            host=host,
            proposed_hosts=proposed,
            today=self._clock.today(),
            now=stored_now(),
        )
        steps_of.refuse_duplicate(exchange, await self._store.open_requests(exchange.visitor.record_id))
        if exchange.physical:
            await self._refuse_a_second_visit(exchange)
        event = steps_of.step_event(None, exchange)
        assert event is not None
        if not await self._store.add(exchange, event, traceparent, fingerprint):
            raise Refusal("conflict", "This exchange was stored meanwhile; read your exchanges.")
        return exchange

    async def _first_request(self, exchange_id: str, fingerprint: str) -> Exchange | None:
        found = await self._store.first_request(exchange_id)
        if found is None:
            return None
        exchange, first_fingerprint = found
        if first_fingerprint != fingerprint:
            raise Refusal(
                "invalid",
                "This Idempotency-Key was used for another request; send a new key with a new request.",
                fields=(("Idempotency-Key", "Used before for a different request"),),
            )
        return replace(exchange, revision=1)

    async def _refuse_a_second_visit(self, exchange: Exchange) -> None:
        # Asked early, so a visitor is not left waiting on a request that could never be accepted.
        _, booked = await self._read_live(self._visitors, exchange.visitor.owner)
        if booked:
            raise Refusal(
                "conflict",
                "Your organisation already has an accepted exchange: a visitor visits once (a virtual exchange "
                "would not count).",
            )

    # -- reading --------------------------------------------------------------------------------------------------

    async def readable(self, caller: Caller, exchange_id: str) -> tuple[Exchange, Acting]:
        """The exchange and for whom the caller acts on it; another's exchange is missing, like an unknown one."""
        exchange = await self._store.get(exchange_id)
        acting = None if exchange is None else acting_for(caller, exchange)
        if exchange is None or acting is None or not acting.reads:
            raise Refusal("missing", "No such exchange.")
        return exchange, acting

    async def view(self, exchange: Exchange, acting: Acting) -> ExchangeView:
        """The exchange as its sides and their managers read it: contacts only once accepted, the next steps."""
        contacts = None
        if exchange.state in CONTACTS_SHOWN:
            contacts = await self._contacts(exchange)
        estimate = await self._grant(exchange) if exchange.state in ESTIMATED else None
        return ExchangeView.model_validate(
            {
                **summary(exchange, acting).model_dump(),
                "goals": exchange.goals,
                "message": exchange.message,
                "agenda": exchange.agenda,
                "decline_reason": exchange.decline_reason,
                "withdrawn_by": exchange.withdrawn_by,
                "confirmations": [
                    Confirmation(side=side, partnership=exchange.sides[side].partnership, confirmed_at=at)
                    for side, at in exchange.confirmations.items()
                ],
                "report": None if exchange.report is None else vars(exchange.report),
                "grant_estimate": estimate,
                "contacts": contacts,
                "next_steps": next_steps(exchange, acting, self._clock.today()),
            }
        )

    async def _contacts(self, exchange: Exchange) -> dict[Side, PartyContact]:
        # Read at view time from the owning services, so no copy of personal data is kept here.
        cards = await asyncio.gather(
            *(self._records.contact(KINDS[side], exchange.sides[side].record_id) for side in KINDS)
        )
        return {
            side: PartyContact(name=card.contact.name, email=card.contact.email)
            for side, card in zip(KINDS, cards, strict=True)
            if card is not None
        }

    async def page(self, caller: Caller, query: PageQuery) -> tuple[list[ExchangeSummary], int]:
        """The caller's exchanges (a manager's: its partnership's), newest first."""
        found, total = await self._store.listed(**_whose(caller), skip=query.skip, limit=query.page_size)
        return [summary(exchange, acting_for(caller, exchange)) for exchange in found], total

    async def totals(self, caller: Caller) -> ExchangeTotals:
        """Counts per state and granted amounts of the caller's exchanges (a manager's: its partnership's)."""
        found, _ = await self._store.listed(**_whose(caller))
        return totals(found)

    # -- the steps ------------------------------------------------------------------------------------------------

    async def accept(
        self, caller: Caller, exchange_id: str, revision: int, agenda: str, traceparent: str | None
    ) -> Exchange:
        """The host accepts: the exchange books its places and, if physical, the visitor's one exchange."""
        exchange, acting = await self._at(caller, exchange_id, revision)
        host = await self._records.facts("host", exchange.host.record_id)
        after = steps_of.accept(exchange, acting, agenda, host, self._clock.today(), stored_now())
        assert host is not None  # accept refuses a missing host
        booking = Booking.of(after, stored_now())
        capacity = int(getattr(host.answers, "capacity", 0))
        if after.physical:
            await self._rebook(
                self._visitors, after.visitor.owner, lambda booked: visitor_bookings_with(booked, booking)
            )
        try:
            await self._rebook(
                self._hosts, after.host.record_id, lambda booked: host_bookings_with(booked, booking, capacity)
            )
            await self._save(exchange, after, traceparent)
        except (Refusal, StaleExchange):
            current = await self._store.get(exchange_id)
            if current is None or not current.state.books:  # a concurrent acceptance of this same one keeps them
                await self._free(after)
            raise
        return after

    async def decline(
        self, caller: Caller, exchange_id: str, revision: int, reason: str | None, traceparent: str | None
    ) -> Exchange:
        """The host declines the request."""
        exchange, acting = await self._at(caller, exchange_id, revision)
        after = steps_of.decline(exchange, acting, reason, stored_now())
        await self._save(exchange, after, traceparent)
        return after

    async def withdraw(self, caller: Caller, exchange_id: str, revision: int, traceparent: str | None) -> Exchange:
        """Either side withdraws before the start; what the exchange booked is free again."""
        exchange, acting = await self._at(caller, exchange_id, revision)
        after = steps_of.withdraw(exchange, acting, self._clock.today(), stored_now())
        await self._save(exchange, after, traceparent)
        if exchange.state.books:
            await self._free(after)
        return after

    async def revise_agreement(
        self, caller: Caller, exchange_id: str, revision: int, goals: str, agenda: str, traceparent: str | None
    ) -> Exchange:
        """Either side revises goals and agenda before the agreement; the managers confirm them afresh."""
        exchange, acting = await self._at(caller, exchange_id, revision)
        after = steps_of.revise_agreement(exchange, acting, goals, agenda, stored_now())
        if after is not exchange:
            await self._save(exchange, after, traceparent)
        return after

    async def confirm(self, caller: Caller, exchange_id: str, revision: int, traceparent: str | None) -> Exchange:
        """A manager confirms the Commitment to Quality for its side(s); with both sides, the exchange is agreed
        and its grant fixed from the organisations as their records now stand."""
        exchange, acting = await self._at(caller, exchange_id, revision)
        after = steps_of.confirm(exchange, acting, stored_now())
        if not after.unconfirmed():
            after = steps_of.agree(await self._refreshed(after), await self._grant(after))
        await self._save(exchange, after, traceparent)
        return after

    async def report(
        self, caller: Caller, exchange_id: str, revision: int, learnt: str, follow_up: str, traceparent: str | None
    ) -> Exchange:
        """The visitor files its closing report after the end date: the exchange is completed."""
        exchange, acting = await self._at(caller, exchange_id, revision)
        after = steps_of.report(exchange, acting, learnt, follow_up, self._clock.today(), stored_now())
        await self._save(exchange, after, traceparent)
        return after

    # -- helpers --------------------------------------------------------------------------------------------------

    async def _at(self, caller: Caller, exchange_id: str, revision: int) -> tuple[Exchange, Acting]:
        exchange, acting = await self.readable(caller, exchange_id)
        if exchange.revision != revision:
            raise StaleExchange(revision, exchange.revision)
        return exchange, acting

    async def _save(self, before: Exchange, after: Exchange, traceparent: str | None) -> None:
        if not await self._store.save(after, before.revision, steps_of.step_event(before, after), traceparent):
            current = await self._store.get(before.id)
            raise StaleExchange(before.revision, before.revision if current is None else current.revision)

    async def _refreshed(self, exchange: Exchange) -> Exchange:
        # The organisations as their records now stand (a city corrected after the request counts).
        visitor, host = await asyncio.gather(
            self._records.facts("visitor", exchange.visitor.record_id),
            self._records.facts("host", exchange.host.record_id),
        )
        return replace(
            exchange,
            visitor=exchange.visitor
            if visitor is None
            else replace(exchange.visitor, organisation=ExchangeSide.of(visitor).organisation),
            host=exchange.host
            if host is None
            else replace(exchange.host, organisation=ExchangeSide.of(host).organisation),
        )

    async def _grant(self, exchange: Exchange) -> Grant:
        refreshed = await self._refreshed(exchange)
        distance = await self._distances.between(refreshed.visitor.organisation, refreshed.host.organisation)
        return grant(
            format=exchange.format,
            working_days=exchange.working_days,
            host_country=refreshed.host.country,
            distance_km=distance,
            caps_cents=self._rules.caps_cents,
        )

    async def _read_live(self, ledger: Ledger, key: str) -> tuple[int, list[Booking]]:
        version, booked = await ledger.read(key)
        states = await self._store.states(b.exchange_id for b in booked)
        today = self._clock.today()
        return version, live(booked, states, now=stored_now(), lease=self._rules.booking_lease, today=today)

    async def _rebook(self, ledger: Ledger, key: str, change: Callable[[list[Booking]], list[Booking]]) -> None:
        # Read, decide, write only if nobody wrote in between; otherwise read again and decide again.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(LedgerMoved),
            stop=stop_after_attempt(20),
            wait=wait_random(0, 0.05),
            reraise=True,
        ):
            with attempt:
                version, booked = await self._read_live(ledger, key)
                if not await ledger.write(key, version, change(booked)):
                    raise LedgerMoved(key)

    async def _free(self, exchange: Exchange) -> None:
        releases: list[Awaitable[None]] = [
            self._rebook(self._hosts, exchange.host.record_id, lambda booked: without(booked, exchange.id))
        ]
        if exchange.physical:
            releases.append(
                self._rebook(self._visitors, exchange.visitor.owner, lambda booked: without(booked, exchange.id))
            )
        await asyncio.gather(*releases)


class _Whose(TypedDict, total=False):
    organisation: str
    partnership: str


def _whose(caller: Caller) -> _Whose:
    if caller.is_manager and caller.partnership is not None:
        return {"partnership": caller.partnership}
    return {"organisation": caller.organisation}


def summary(exchange: Exchange, acting: Acting) -> ExchangeSummary:
    """The exchange as a list shows it."""
    return ExchangeSummary(
        exchange_id=uuid.UUID(exchange.id),
        revision=exchange.revision,
        state=exchange.state,
        visitor=_party(exchange.visitor),
        host=_party(exchange.host),
        dates=exchange.dates,
        working_days=exchange.working_days,
        format=exchange.format,
        participants=exchange.participants,
        grant=exchange.grant,
        requested_at=exchange.requested_at,
        updated_at=exchange.updated_at,
        your_sides=sorted(acting.own | acting.overseen),
    )


def _party(side: ExchangeSide) -> ExchangeParty:
    return ExchangeParty.model_validate(
        {"record_id": side.record_id, "partnership": side.partnership, "organisation": side.organisation}
    )
