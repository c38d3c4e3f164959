"""Owned aggregates: a record an organisation created (a host entry, an application), its revisions and its events.

Both answer-owning services keep records of one shape: `_id` (UUID4 text), `owner` (the id of the signed-in
organisation that created it), `partnership` (the partnership that validates it), `organisation`, `contact`
(personal data), `answers`, `revision`, `status` (active | withdrawn), `created_at` / `updated_at`, and the
outbox. This module is that part, written once:

- a create stores revision 1 and its event in one insert;
- a replace or a withdrawal is one `update_one` guarded by `{_id, owner, status: active, revision: expected}`,
  with `$inc` on the revision and the event pushed to the outbox in the same update, so either the change
  and its event are stored or neither is, and a writer that read an older revision changes nothing;
- the outcome says what happened: `Written` (with the new state), `NotFound`, or `StaleRevision`.

What the events are is the service's business: it passes an `AggregateEvents` that builds them from the
stored state (`StateEvents`, for the contract's events that carry the organisation and the full answers).
The repository never decides ownership from input: every owner operation takes `owner`.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from cx_contracts.events import Event, Withdrawal, WithdrawalReason
from cx_kit.outbox import LEASE_FIELD, OUTBOX_FIELD, OutboxEntry, outbox_entry, with_outbox

logger = logging.getLogger(__name__)

ACTIVE = "active"
WITHDRAWN = "withdrawn"


def stored_now() -> datetime:
    """The current UTC instant at the store's precision (BSON dates keep milliseconds)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def same_owner(stored: str, claimed: str) -> bool:
    """Whether two owner ids are equal, compared in constant time."""
    return hmac.compare_digest(stored.encode(), claimed.encode())


# Where a create sent with an Idempotency-Key keeps the fingerprint of its request (never shown in a view).
IDEMPOTENCY_FIELD = "idempotency"
_IDEMPOTENT_IDS = uuid.UUID("6b1f4f0e-2f55-4c8e-9a43-3c1f0c6e8d21")  # the namespace of ids made from keys


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key of a create was used before by the same owner for a different request."""


def idempotent_id(owner: str, key: str) -> str:
    """The id of the record an owner's create with Idempotency-Key `key` makes: the same for every retry, so the
    store's own unique primary key lets one of any number of retries (concurrent ones too) create it."""
    return str(uuid.uuid5(_IDEMPOTENT_IDS, f"{owner}\n{key}"))


@dataclass(frozen=True)
class AggregateRecord:
    """One stored record, as JSON-ready parts (the service's domain turns them into its own models)."""

    id: str
    owner: str
    organisation: dict[str, Any]
    contact: dict[str, Any] | None
    answers: dict[str, Any]
    revision: int
    status: str
    created_at: datetime
    updated_at: datetime
    partnership: str | None = None  # records stored before partnerships were asked for name none
    extra: dict[str, Any] = field(default_factory=dict)

    def state(self, id_field: str) -> dict[str, Any]:
        """What its events and public views carry, its id named `id_field`: never the contact."""
        return {
            id_field: self.id,
            "revision": self.revision,
            "organisation": self.organisation,
            "answers": self.answers,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> AggregateRecord:
        """Read a stored document (outbox and lease are the relay's, not the record's)."""
        known = {
            "_id",
            "owner",
            "partnership",
            "organisation",
            "contact",
            "answers",
            "revision",
            "status",
            "created_at",
            "updated_at",
            OUTBOX_FIELD,
            LEASE_FIELD,
            IDEMPOTENCY_FIELD,
        }
        return cls(
            id=document["_id"],
            owner=document["owner"],
            organisation=document["organisation"],
            contact=document.get("contact"),
            answers=document["answers"],
            revision=document["revision"],
            status=document["status"],
            created_at=document["created_at"],
            updated_at=document["updated_at"],
            partnership=document.get("partnership"),
            extra={k: v for k, v in document.items() if k not in known},
        )


@dataclass(frozen=True)
class Written:
    """The change is stored, and its event queued: `record` is the state after it."""

    record: AggregateRecord

    @property
    def revision(self) -> int:
        """The record's revision after the change."""
        return self.record.revision


@dataclass(frozen=True)
class NotFound:
    """No active record with this id belongs to this owner (unknown, withdrawn, or someone else's)."""


@dataclass(frozen=True)
class RecordPage:
    """One page of records, and how many there are on all pages."""

    records: list[AggregateRecord]
    total: int


@dataclass(frozen=True)
class StaleRevision:
    """The writer read revision `expected`, but the record is at `current`: nothing was changed."""

    expected: int
    current: int


Outcome = Written | NotFound | StaleRevision


class AggregateEvents(Protocol):
    """How a service announces its records: an event with the full current state, and a tombstone."""

    def submitted(self, record: AggregateRecord) -> Event:
        """The event announcing `record` as it now is (no personal data)."""
        ...

    def withdrawn(self, record: AggregateRecord) -> Withdrawal:
        """The tombstone descriptor announcing that `record` (as withdrawn) left the topic."""
        ...


@dataclass(frozen=True)
class StateEvents:
    """Events that carry a record's state: `submitted` after every change (organisation and full answers, never
    the contact), and the `withdrawn` tombstone; both name the record by the id field their contract declares."""

    submitted_type: type[Event]
    withdrawn_type: type[Withdrawal]

    def submitted(self, record: AggregateRecord) -> Event:
        """The event announcing `record` as it now is."""
        state = record.state(self.submitted_type.KEY_FIELD)
        return self.submitted_type.model_validate({**state, "occurred_at": record.updated_at})

    def withdrawn(self, record: AggregateRecord) -> Withdrawal:
        """The tombstone descriptor announcing that `record` was withdrawn by its owner."""
        return self.withdrawn_type.model_validate(
            {
                self.withdrawn_type.KEY_FIELD: record.id,
                "revision": record.revision,
                "occurred_at": record.updated_at,
                "reason": WithdrawalReason.WITHDRAWN,
            }
        )


class OwnedAggregates:
    """The repository of one collection of owned records; each change is stored together with its event."""

    def __init__(
        self,
        collection: AsyncCollection,
        events: AggregateEvents,
        *,
        topic_namespace: str = "",
        after_write: Callable[[], None] | None = None,
        derived: Callable[[AggregateRecord], dict[str, Any]] | None = None,
    ) -> None:
        """`after_write` is called after every stored change (the relay's `wake`); `derived` returns fields
        computed from the state (a search text, say) stored beside it and kept in step with it."""
        self._collection = collection
        self._events = events
        self._topic_namespace = topic_namespace
        self._after_write = after_write or (lambda: None)
        self._derived = derived or (lambda record: {})

    @property
    def collection(self) -> AsyncCollection:
        """The underlying collection (for a service's own queries, such as a public listing)."""
        return self._collection

    async def ensure_indexes(self) -> None:
        """Indexes the repository's queries use."""
        await self._collection.create_index([("status", 1), ("created_at", 1), ("_id", 1)])
        await self._collection.create_index([("owner", 1), ("status", 1), ("created_at", 1)])
        await self._collection.create_index([("partnership", 1), ("status", 1), ("created_at", 1)])

    async def create(
        self,
        *,
        owner: str,
        partnership: str,
        organisation: dict[str, Any],
        contact: dict[str, Any],
        answers: dict[str, Any],
        traceparent: str | None = None,
        idempotency: tuple[str, str] | None = None,
    ) -> AggregateRecord:
        """Store a new record at revision 1 with its event queued; returns it.

        With `idempotency` (the request's Idempotency-Key and a fingerprint of its body), a retry returns the record
        the first request created, at its first revision, and queues no second event; the same key with another
        body is IdempotencyKeyReused."""
        now = stored_now()
        record = AggregateRecord(
            id=str(uuid.uuid4()) if idempotency is None else idempotent_id(owner, idempotency[0]),
            owner=owner,
            partnership=partnership,
            organisation=organisation,
            contact=contact,
            answers=answers,
            revision=1,
            status=ACTIVE,
            created_at=now,
            updated_at=now,
        )
        derived = self._derived(record)
        record = replace(record, extra=derived)
        entry = self._entry(self._events.submitted(record), traceparent)
        document = {
            "_id": record.id,
            "owner": owner,
            "partnership": partnership,
            "organisation": organisation,
            "contact": contact,
            "answers": answers,
            "revision": 1,
            "status": ACTIVE,
            "created_at": now,
            "updated_at": now,
            **derived,
            OUTBOX_FIELD: [entry.to_document()],
            LEASE_FIELD: None,
        }
        if idempotency is not None:
            document[IDEMPOTENCY_FIELD] = {"fingerprint": idempotency[1]}
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            if idempotency is None:
                raise
            first = await self._collection.find_one({"_id": record.id})
            if first is None or first.get(IDEMPOTENCY_FIELD, {}).get("fingerprint") != idempotency[1]:
                raise IdempotencyKeyReused(record.id) from None
            return replace(AggregateRecord.from_document(first), revision=1)
        self._after_write()
        return record

    async def get(self, aggregate_id: str) -> AggregateRecord | None:
        """The active record `aggregate_id`, whoever owns it (for public views and internal look-ups)."""
        document = await self._collection.find_one({"_id": aggregate_id, "status": ACTIVE})
        return None if document is None else AggregateRecord.from_document(document)

    async def stored(self, aggregate_id: str) -> AggregateRecord | None:
        """The record `aggregate_id` whether active or withdrawn (for another service's look-up of its facts)."""
        document = await self._collection.find_one({"_id": aggregate_id}, projection={OUTBOX_FIELD: 0, LEASE_FIELD: 0})
        return None if document is None else AggregateRecord.from_document(document)

    async def get_owned(self, aggregate_id: str, owner: str) -> AggregateRecord | None:
        """The active record `aggregate_id` if `owner` owns it; None otherwise (someone else's is not found)."""
        document = await self._collection.find_one({"_id": aggregate_id, "owner": owner, "status": ACTIVE})
        if document is None or not same_owner(document["owner"], owner):
            return None
        return AggregateRecord.from_document(document)

    async def page(
        self, *, skip: int, limit: int, owner: str | None = None, partnership: str | None = None
    ) -> RecordPage:
        """The active records of `owner`, or naming `partnership`, oldest first: `limit` of them after `skip`."""
        if (owner is None) == (partnership is None):
            raise ValueError("a page is of one owner or of one partnership")
        where = {"status": ACTIVE, **({"owner": owner} if owner is not None else {"partnership": partnership})}
        cursor = (
            self._collection.find(where, projection={OUTBOX_FIELD: 0, LEASE_FIELD: 0})
            .sort([("created_at", 1), ("_id", 1)])
            .skip(skip)
            .limit(limit)
        )
        records = [AggregateRecord.from_document(document) async for document in cursor]
        return RecordPage(records, await self._collection.count_documents(where))

    async def replace(
        self,
        aggregate_id: str,
        owner: str,
        expected_revision: int,
        *,
        answers: dict[str, Any],
        organisation: dict[str, Any] | None = None,
        contact: dict[str, Any] | None = None,
        partnership: str | None = None,
        traceparent: str | None = None,
    ) -> Outcome:
        """Replace the answers (and the organisation, contact or partnership when given) if the record is still
        at `expected_revision`; the event carries the full state after the change."""
        current = await self._at_revision(aggregate_id, owner, expected_revision)
        if not isinstance(current, AggregateRecord):
            return current
        changed = replace(
            current,
            answers=answers,
            organisation=organisation if organisation is not None else current.organisation,
            contact=contact if contact is not None else current.contact,
            partnership=partnership if partnership is not None else current.partnership,
            revision=current.revision + 1,
            updated_at=stored_now(),
        )
        derived = self._derived(changed)
        changed = replace(changed, extra={**current.extra, **derived})
        entry = self._entry(self._events.submitted(changed), traceparent)
        update = {
            "$set": {
                "answers": changed.answers,
                "organisation": changed.organisation,
                "contact": changed.contact,
                "partnership": changed.partnership,
                "updated_at": changed.updated_at,
                **derived,
            },
            "$inc": {"revision": 1},
        }
        return await self._guarded_update(current, expected_revision, with_outbox(update, entry), changed)

    async def withdraw(
        self, aggregate_id: str, owner: str, expected_revision: int, *, traceparent: str | None = None
    ) -> Outcome:
        """Withdraw the record if it is still at `expected_revision`: it leaves every public view, its
        contact is dropped (no longer needed), and a tombstone is queued for its topic."""
        current = await self._at_revision(aggregate_id, owner, expected_revision)
        if not isinstance(current, AggregateRecord):
            return current
        withdrawn = replace(
            current, status=WITHDRAWN, contact=None, revision=current.revision + 1, updated_at=stored_now()
        )
        entry = self._entry(self._events.withdrawn(withdrawn), traceparent)
        update = {
            "$set": {"status": WITHDRAWN, "contact": None, "updated_at": withdrawn.updated_at},
            "$inc": {"revision": 1},
        }
        return await self._guarded_update(current, expected_revision, with_outbox(update, entry), withdrawn)

    async def _at_revision(self, aggregate_id: str, owner: str, expected_revision: int) -> Outcome | AggregateRecord:
        # The owner's active record if it is at the revision the writer read; otherwise what stands in the way.
        current = await self.get_owned(aggregate_id, owner)
        if current is None:
            return NotFound()
        if current.revision != expected_revision:
            return StaleRevision(expected_revision, current.revision)
        return current

    def _entry(self, event: Event | Withdrawal, traceparent: str | None) -> OutboxEntry:
        return outbox_entry(event, topic_namespace=self._topic_namespace, traceparent=traceparent)

    async def _guarded_update(
        self, current: AggregateRecord, expected_revision: int, update: dict[str, Any], after: AggregateRecord
    ) -> Outcome:
        # The guard makes the read above and this write one step: if anyone changed the record in between,
        # nothing matches and nothing (state or event) is written.
        result = await self._collection.update_one(
            {"_id": current.id, "owner": current.owner, "status": ACTIVE, "revision": expected_revision}, update
        )
        if result.matched_count == 0:
            now = await self.get_owned(current.id, current.owner)
            return NotFound() if now is None else StaleRevision(expected_revision, now.revision)
        self._after_write()
        return Written(after)

    async def count(self, *, status: str | None = None) -> int:
        """How many records are stored (of one status, if given)."""
        return await self._collection.count_documents({} if status is None else {"status": status})


async def prepare_store(*repositories: OwnedAggregates) -> None:
    """Create the repositories' indexes; an unreachable store is logged, not fatal: the service still starts,
    /readyz reports the store down and requests get 503 until it is back."""
    for repository in repositories:
        try:
            await repository.ensure_indexes()
        except ConnectionFailure as error:
            logger.warning("store unreachable at start-up; indexes not created", extra={"error": repr(error)})
            return
