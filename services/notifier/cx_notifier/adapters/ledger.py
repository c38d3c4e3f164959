"""The sent-mail ledger in MongoDB (db `notifier`): one document per ledger entry.

Every change is one `update_one` guarded by the state it expects (status, attempt count, claimant), so
a repeat (a redelivered record, a second replica, the resume sweep) finds nothing to change instead of
doing it twice. The NotificationSent of a mail rides in the same update that marks it sent (the kit's
outbox field), so it is never lost.

Two collections, so that the guarded updates stay cheap on FerretDB 1.x, which answers any filter other
than a lone `_id` by reading the whole collection (measured: 250 ms at 600 entries, growing with them):

- `mails`: entries in flight (pending, deferred, or finished with their event not yet published); every
  guarded update and every timed query (resume sweep, digests) reads only these few;
- `mails_done`: finished entries, moved there by `archive_finished`, read only by `_id` (a replay asks
  whether its entries exist) and pruned after the match-found topic's retention.

Beside them, `recipient_periods` holds the cap's counters and `introductions` one document per application
(which run first proposed each host to it), both read and written by `_id` alone.

An entry is in one collection at a time, except for a moment while it moves (then both copies are the
same finished entry). On FerretDB 1.x a guarded update is atomic only within one connection: the kit
gives each process one (see cx_kit.mongo), so the guards hold within a replica; across replicas they hold
on a real MongoDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from cx_contracts.events import MatchFound, NotificationKind, NotificationSent
from cx_contracts.traceparent import child_traceparent
from cx_kit.outbox import OUTBOX_FIELD, outbox_entry

from cx_notifier.domain.introductions import Introduction, Introductions
from cx_notifier.domain.ledger import FINAL_STATUSES, LedgerEntry, MailStatus

MAILS_COLLECTION = "mails"
DONE_COLLECTION = "mails_done"
CAP_COLLECTION = "recipient_periods"
INTRODUCTIONS_COLLECTION = "introductions"

_FINAL = [status.value for status in FINAL_STATUSES]


def entry_document(entry: LedgerEntry) -> dict[str, Any]:
    """The entry as stored (`id` becomes `_id`)."""
    document = entry.model_dump(mode="python", exclude={"id"})
    document["_id"] = entry.id
    document["matches"] = [match.model_dump(mode="json") for match in entry.matches]
    return document


def entry_from_document(document: Mapping[str, Any]) -> LedgerEntry:
    """Read a stored entry (tolerates the relay's outbox fields)."""
    return LedgerEntry.model_validate({**document, "id": document["_id"]})


def introduction_document(introduction: Introduction) -> dict[str, str]:
    """One introduction as stored in its application's document."""
    return {"host": introduction.host_id, "run": introduction.match_run_id}


def introductions_from_document(document: Mapping[str, Any] | None) -> Introductions:
    """Read an application's introductions (none when it has no document yet)."""
    if document is None:
        return Introductions()
    return Introductions(
        first_run=document.get("first_run"),
        introduced=tuple(Introduction(i["host"], i["run"]) for i in document.get("hosts", [])),
    )


class MailLedger:
    """Reads and guarded updates of ledger entries, and the per-recipient cap's counters."""

    def __init__(
        self,
        active: AsyncCollection,
        done: AsyncCollection,
        caps: AsyncCollection,
        introductions: AsyncCollection,
        *,
        topic_namespace: str = "",
    ) -> None:
        self.collection = active
        self.done = done
        self.caps = caps
        self.introductions = introductions
        self._namespace = topic_namespace

    async def ensure_indexes(self) -> None:
        """The indexes the timed queries use on a real MongoDB (idempotent)."""
        await self.collection.create_index([("status", ASCENDING), ("planned_at", ASCENDING)])
        await self.done.create_index([("planned_at", ASCENDING)])
        await self.caps.create_index([("period", ASCENDING)])
        await self.introductions.create_index([("updated_at", ASCENDING)])

    # ------------------------------------------------------------------------------------------ reads

    async def get(self, entry_id: str) -> LedgerEntry | None:
        """One entry, in flight or finished, or None."""
        document = await self.collection.find_one({"_id": entry_id})
        if document is None:
            document = await self.done.find_one({"_id": entry_id})
        return None if document is None else entry_from_document(document)

    async def get_many(self, entry_ids: Iterable[str]) -> list[LedgerEntry]:
        """The entries that exist among `entry_ids`, in that order."""
        # One lookup per id: FerretDB 1.x answers `_id: {$in: ...}` by reading the whole collection.
        found = [await self.get(entry_id) for entry_id in entry_ids]
        return [entry for entry in found if entry is not None]

    async def resumable(self, *, now: datetime, planned_before: datetime, limit: int) -> list[LedgerEntry]:
        """Pending entries nobody holds that were planned before `planned_before`, oldest first."""
        cursor = (
            self.collection.find(
                {
                    "status": MailStatus.PENDING.value,
                    "planned_at": {"$lt": planned_before},
                    "$or": [{"claimed_until": None}, {"claimed_until": {"$lt": now}}],
                }
            )
            .sort("planned_at", ASCENDING)
            .limit(limit)
        )
        return [entry_from_document(d) async for d in cursor]

    async def deferred_before(self, period: int, limit: int) -> list[LedgerEntry]:
        """Deferred entries of periods that ended (before `period`)."""
        cursor = (
            self.collection.find({"status": MailStatus.DEFERRED.value, "period": {"$lt": period}})
            .sort("planned_at", ASCENDING)
            .limit(limit)
        )
        return [entry_from_document(d) async for d in cursor]

    async def counts(self) -> dict[str, dict[str, int]]:
        """How many proposal mails and digests are in each status (in flight and finished)."""
        result: dict[str, dict[str, int]] = {
            "proposals": {s.value: 0 for s in MailStatus},
            "digests": {s.value: 0 for s in MailStatus},
        }
        pipeline: list[dict[str, Any]] = [{"$group": {"_id": {"kind": "$kind", "status": "$status"}, "n": {"$sum": 1}}}]
        for collection in (self.collection, self.done):
            async for row in await collection.aggregate(pipeline):
                group = "digests" if row["_id"]["kind"] == NotificationKind.DIGEST.value else "proposals"
                status = row["_id"]["status"]
                result[group][status] = result[group].get(status, 0) + int(row["n"])
        return result

    # ----------------------------------------------------------------------------------------- writes

    async def cap_position(self, recipient_id: str, period: int, entry_id: str) -> int:
        """The entry's place (0, 1, ...) among the proposals planned for a recipient in a period.

        The counter document lists the entry ids it counted, so asking again for the same entry (a
        redelivered record) gives the same place instead of counting it twice.
        """
        document = await self.caps.find_one_and_update(
            {"_id": f"{recipient_id}/{period}"},
            {"$addToSet": {"entries": entry_id}, "$setOnInsert": {"period": period}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if document is None:  # an upsert returning the document after it cannot find none
            raise RuntimeError(f"cap counter {recipient_id}/{period} was not written")
        return list(document["entries"]).index(entry_id)

    async def introduce(self, match: MatchFound, *, now: datetime) -> Introductions:
        """Record the run's hosts that are new to its visitor; the application's introductions after.

        Only adds (`$addToSet`), and only what the stored record does not name yet, so a run asked about
        again changes nothing and reads the same answer; the first run recorded for a host stays its
        introducer, even when two runs add the same host at the same moment.
        """
        application = str(match.application_id)
        record = introductions_from_document(await self.introductions.find_one({"_id": application}))
        added = record.to_record(match)
        if not added:
            return record
        update = {
            "$addToSet": {"hosts": {"$each": [introduction_document(i) for i in added]}},
            "$setOnInsert": {"first_run": str(match.match_run_id)},
            "$set": {"updated_at": now},
        }
        try:
            document = await self.introductions.find_one_and_update(
                {"_id": application}, update, upsert=True, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:  # created at the same moment elsewhere: add to that one
            document = await self.introductions.find_one_and_update(
                {"_id": application}, update, return_document=ReturnDocument.AFTER
            )
        return introductions_from_document(document)

    async def plan(self, entry: LedgerEntry) -> bool:
        """Store `entry` unless an entry with its id exists; True when this call stored it."""
        document = entry_document(entry)
        entry_id = document.pop("_id")
        try:
            result = await self.collection.update_one({"_id": entry_id}, {"$setOnInsert": document}, upsert=True)
        except DuplicateKeyError:
            return False  # planned at the same moment elsewhere; theirs stands
        if result.upserted_id is None:
            return False
        if await self.done.find_one({"_id": entry_id}) is not None:
            # Finished and archived between the caller's look and this insert: the finished one stands.
            await self.collection.delete_one({"_id": entry_id})
            return False
        return True

    async def claim(self, entry_id: str, claimant: str, *, now: datetime, until: datetime) -> bool:
        """Take the right to send a pending entry until `until`; False if it is not pending or someone holds it.

        Read, then compare-and-set on the attempt count: every claim raises it, so of two claimants that
        read the same entry only one succeeds.
        """
        document = await self.collection.find_one({"_id": entry_id})
        if document is None or document["status"] != MailStatus.PENDING.value:
            return False
        held_until = document.get("claimed_until")
        if held_until is not None and held_until >= now:
            return False
        attempts = int(document.get("attempts", 0))
        result = await self.collection.update_one(
            {"_id": entry_id, "status": MailStatus.PENDING.value, "attempts": attempts},
            {"$set": {"attempts": attempts + 1, "claimed_by": claimant, "claimed_until": until}},
        )
        return result.modified_count == 1

    async def release(self, entry_id: str, claimant: str, *, reason: str, uncertain: bool) -> None:
        """Give a claim back after a failed attempt, counting how the attempt failed."""
        counter = "uncertain_attempts" if uncertain else "failed_attempts"
        await self.collection.update_one(
            {"_id": entry_id, "status": MailStatus.PENDING.value, "claimed_by": claimant},
            {"$set": {"claimed_until": None, "reason": reason[:300]}, "$inc": {counter: 1}},
        )

    async def mark_sent(self, entry: LedgerEntry, event: NotificationSent) -> bool:
        """The relay accepted the mail: record it and queue its NotificationSent in the same update.

        The kit's outbox field, set whole rather than pushed to (`with_outbox`): an entry queues exactly one
        event, once, when it leaves pending, so its outbox is empty until then; and FerretDB 1.x applies a
        `$set` without the read-modify-write a `$push` costs.
        """
        # A child span of the run's trace (a new trace for a digest, which answers several runs).
        queued = outbox_entry(event, topic_namespace=self._namespace, traceparent=child_traceparent(entry.traceparent))
        result = await self.collection.update_one(
            {"_id": entry.id, "status": MailStatus.PENDING.value},
            {
                "$set": {
                    "status": MailStatus.SENT.value,
                    "sent_at": event.sent_at,
                    "claimed_until": None,
                    "reason": None,
                    OUTBOX_FIELD: [queued.to_document()],
                }
            },
        )
        return result.modified_count == 1

    async def mark_finished(self, entry_id: str, status: MailStatus, reason: str) -> bool:
        """A pending entry ends without a mail (skipped) or with a refusal (rejected)."""
        result = await self.collection.update_one(
            {"_id": entry_id, "status": MailStatus.PENDING.value},
            {"$set": {"status": status.value, "reason": reason[:300], "claimed_until": None}},
        )
        return result.modified_count == 1

    async def close_members(self, member_ids: list[str], digest_id: str, status: MailStatus) -> None:
        """Deferred members of a finished digest become digested (or skipped, if the digest was)."""
        await self.collection.update_many(
            {"_id": {"$in": member_ids}, "status": MailStatus.DEFERRED.value},
            {"$set": {"status": status.value, "digest_id": digest_id}},
        )

    async def move_to_period(self, entry_ids: list[str], period: int) -> None:
        """Deferred entries that missed their period's digest wait for the next one."""
        await self.collection.update_many(
            {"_id": {"$in": entry_ids}, "status": MailStatus.DEFERRED.value}, {"$set": {"period": period}}
        )

    async def archive_finished(self, limit: int = 1000) -> int:
        """Move finished entries whose event is published from `mails` to `mails_done`; returns how many."""
        cursor = self.collection.find({"status": {"$in": _FINAL}, f"{OUTBOX_FIELD}.0": {"$exists": False}}).limit(limit)
        documents = [d async for d in cursor]
        for document in documents:
            # Copy first, then delete: a crash in between leaves two equal copies, never none. A finished
            # entry with no event to publish is never changed again, so the copy cannot be stale.
            await self.done.replace_one({"_id": document["_id"]}, document, upsert=True)
            await self.collection.delete_one({"_id": document["_id"]})
        return len(documents)

    async def prune(self, planned_before: datetime, period_before: int, introduced_before: datetime) -> int:
        """Forget finished entries planned before `planned_before`, the cap counters of old periods, and the
        introductions of applications that had none since `introduced_before`.

        Records older than the match-found topic's retention can never be redelivered, so their entries
        protect nothing any more (and the store has no TTL indexes). Introductions are kept far longer: a
        visitor forgotten would get its whole list again. Returns how many entries went.
        """
        result = await self.done.delete_many({"planned_at": {"$lt": planned_before}})
        await self.caps.delete_many({"period": {"$lt": period_before}})
        await self.introductions.delete_many({"updated_at": {"$lt": introduced_before}})
        return result.deleted_count
