"""The exchanges collection (MongoDB db `exchanges`): one document per exchange, with its pending events.

A step is one `update_one` guarded by the revision the step was decided on, with `$inc` on the revision and the
event pushed to the outbox in the same update (cx_kit.outbox), so the step and its event are stored together or
not at all. Dates are kept as ISO text (they sort as dates), instants as BSON dates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cx_contracts.events import ExchangeEvent
from cx_contracts.exchange import ExchangeState, Grant
from cx_contracts.questionnaire import DateRangeState
from cx_contracts.vocabulary import ExchangeFormat
from cx_kit.aggregates import IDEMPOTENCY_FIELD
from cx_kit.outbox import LEASE_FIELD, OUTBOX_FIELD, outbox_entry, with_outbox

from cx_exchanges.domain.exchange import OPEN, Exchange, ExchangeSide, Report

EXCHANGES = "exchanges"


def exchange_document(exchange: Exchange) -> dict[str, Any]:
    """How an exchange is stored (without its id, revision and outbox)."""
    return {
        "state": exchange.state.value,
        "visitor": _side_document(exchange.visitor),
        "host": _side_document(exchange.host),
        "dates": {"start": exchange.dates.start.isoformat(), "end": exchange.dates.end.isoformat()},
        "format": exchange.format.value,
        "participants": exchange.participants,
        "goals": exchange.goals,
        "message": exchange.message,
        "agenda": exchange.agenda,
        "decline_reason": exchange.decline_reason,
        "withdrawn_by": exchange.withdrawn_by,
        "previous_state": None if exchange.previous_state is None else exchange.previous_state.value,
        "confirmations": dict(exchange.confirmations),
        "report": None
        if exchange.report is None
        else {"learnt": exchange.report.learnt, "follow_up": exchange.report.follow_up},
        "grant": None if exchange.grant is None else exchange.grant.model_dump(mode="json"),
        "requested_at": exchange.requested_at,
        "updated_at": exchange.updated_at,
    }


def _side_document(side: ExchangeSide) -> dict[str, Any]:
    return {
        "record_id": side.record_id,
        "owner": side.owner,
        "partnership": side.partnership,
        "organisation": dict(side.organisation),
    }


def exchange_of(document: dict[str, Any]) -> Exchange:
    """The exchange a stored document holds."""
    report = document.get("report")
    grant = document.get("grant")
    previous = document.get("previous_state")
    return Exchange(
        id=document["_id"],
        revision=document["revision"],
        state=ExchangeState(document["state"]),
        visitor=ExchangeSide(**document["visitor"]),
        host=ExchangeSide(**document["host"]),
        dates=DateRangeState(
            start=date.fromisoformat(document["dates"]["start"]), end=date.fromisoformat(document["dates"]["end"])
        ),
        format=ExchangeFormat(document["format"]),
        participants=document["participants"],
        goals=document["goals"],
        message=document["message"],
        agenda=document.get("agenda"),
        decline_reason=document.get("decline_reason"),
        withdrawn_by=document.get("withdrawn_by"),
        previous_state=None if previous is None else ExchangeState(previous),
        confirmations=dict(document.get("confirmations") or {}),
        report=None if report is None else Report(**report),
        grant=None if grant is None else Grant.model_validate(grant),
        requested_at=document["requested_at"],
        updated_at=document["updated_at"],
    )


class ExchangeRepository:
    """The handlers' `ExchangeStore` on MongoDB."""

    def __init__(
        self, database: AsyncDatabase, *, topic_namespace: str = "", after_write: Callable[[], None] | None = None
    ) -> None:
        self._collection: AsyncCollection = database[EXCHANGES]
        self._topic_namespace = topic_namespace
        self._after_write = after_write or (lambda: None)

    @property
    def collection(self) -> AsyncCollection:
        """The underlying collection (the outbox relay drains it)."""
        return self._collection

    async def ensure_indexes(self) -> None:
        """Indexes the queries use."""
        for side in ("visitor", "host"):
            await self._collection.create_index([(f"{side}.owner", 1), ("requested_at", -1)])
            await self._collection.create_index([(f"{side}.partnership", 1), ("requested_at", -1)])
        await self._collection.create_index([("visitor.record_id", 1), ("state", 1)])

    async def add(
        self, exchange: Exchange, event: ExchangeEvent, traceparent: str | None, fingerprint: str | None = None
    ) -> bool:
        """Store a new exchange (revision 1) with its event queued (and the fingerprint of the request that made
        it, when it came with an Idempotency-Key); False when an exchange with its id exists."""
        entry = outbox_entry(event, topic_namespace=self._topic_namespace, traceparent=traceparent)
        document = {"_id": exchange.id, "revision": exchange.revision, **exchange_document(exchange)}
        if fingerprint is not None:
            document[IDEMPOTENCY_FIELD] = {"fingerprint": fingerprint}
        try:
            await self._collection.insert_one({**document, OUTBOX_FIELD: [entry.to_document()], LEASE_FIELD: None})
        except DuplicateKeyError:
            return False
        self._after_write()
        return True

    async def first_request(self, exchange_id: str) -> tuple[Exchange, str | None] | None:
        """The exchange `exchange_id` and the fingerprint of the request that made it, if stored."""
        document = await self._collection.find_one({"_id": exchange_id}, projection={OUTBOX_FIELD: 0, LEASE_FIELD: 0})
        if document is None:
            return None
        return exchange_of(document), (document.get(IDEMPOTENCY_FIELD) or {}).get("fingerprint")

    async def get(self, exchange_id: str) -> Exchange | None:
        """The exchange `exchange_id`, if stored."""
        document = await self._collection.find_one({"_id": exchange_id}, projection={OUTBOX_FIELD: 0, LEASE_FIELD: 0})
        return None if document is None else exchange_of(document)

    async def save(
        self, after: Exchange, expected_revision: int, event: ExchangeEvent | None, traceparent: str | None
    ) -> bool:
        """Store the exchange after a step, if it is still at `expected_revision`; False when it moved on."""
        update: dict[str, Any] = {
            "$set": exchange_document(after),
            "$inc": {"revision": after.revision - expected_revision},
        }
        if event is not None:
            update = with_outbox(
                update, outbox_entry(event, topic_namespace=self._topic_namespace, traceparent=traceparent)
            )
        result = await self._collection.update_one({"_id": after.id, "revision": expected_revision}, update)
        if result.matched_count and event is not None:
            self._after_write()
        return bool(result.matched_count)

    async def open_requests(self, application_id: str) -> list[Exchange]:
        """The application's exchanges that still stand (requested, accepted, agreed)."""
        cursor = self._collection.find(
            {"visitor.record_id": application_id, "state": {"$in": [state.value for state in OPEN]}},
            projection={OUTBOX_FIELD: 0, LEASE_FIELD: 0},
        )
        return [exchange_of(document) async for document in cursor]

    async def listed(
        self, *, organisation: str | None = None, partnership: str | None = None, skip: int = 0, limit: int = 0
    ) -> tuple[list[Exchange], int]:
        """The exchanges of one organisation (either side) or one partnership (either side), newest first: `limit`
        after `skip` (0: all), and how many there are."""
        field, value = ("owner", organisation) if organisation is not None else ("partnership", partnership)
        where = {"$or": [{f"visitor.{field}": value}, {f"host.{field}": value}]}
        cursor = (
            self._collection.find(where, projection={OUTBOX_FIELD: 0, LEASE_FIELD: 0})
            .sort([("requested_at", DESCENDING), ("_id", DESCENDING)])
            .skip(skip)
            .limit(limit)
        )
        found = [exchange_of(document) async for document in cursor]
        return found, await self._collection.count_documents(where)

    async def states(self, exchange_ids: Iterable[str]) -> dict[str, ExchangeState]:
        """Where each of the exchanges stands (those stored)."""
        ids = list(dict.fromkeys(exchange_ids))
        if not ids:
            return {}
        cursor = self._collection.find({"_id": {"$in": ids}}, projection={"state": 1})
        return {document["_id"]: ExchangeState(document["state"]) async for document in cursor}
