"""The booking ledgers (collections `host_bookings` and `visitor_bookings`): one document per host or visiting
organisation holding its bookings and a version, rewritten whole by an update guarded on that version.

FerretDB 1.x makes a single-document update atomic only as one request; the guard on `version` makes the read
and the write of a ledger one step, so of two writers that read the same version only the first is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cx_exchanges.domain.bookings import Booking

HOST_BOOKINGS = "host_bookings"
VISITOR_BOOKINGS = "visitor_bookings"


def booking_document(booking: Booking) -> dict[str, Any]:
    """How a booking is stored."""
    return {
        "exchange_id": booking.exchange_id,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "participants": booking.participants,
        "booked_at": booking.booked_at,
    }


def booking_of(document: dict[str, Any]) -> Booking:
    """The booking a stored entry holds."""
    return Booking(
        exchange_id=document["exchange_id"],
        start=date.fromisoformat(document["start"]),
        end=date.fromisoformat(document["end"]),
        participants=document["participants"],
        booked_at=document["booked_at"],
    )


class BookingLedger:
    """The handlers' `Ledger` on one collection: a host's places, or a visiting organisation's one exchange."""

    def __init__(self, database: AsyncDatabase, collection: str) -> None:
        self._collection = database[collection]

    async def read(self, key: str) -> tuple[int, list[Booking]]:
        """The ledger's version (0 when it has none yet) and its bookings."""
        document = await self._collection.find_one({"_id": key})
        if document is None:
            return 0, []
        return document["version"], [booking_of(entry) for entry in document.get("bookings", [])]

    async def write(self, key: str, version: int, bookings: Sequence[Booking]) -> bool:
        """Replace the bookings if the ledger is still at `version`; False when another writer came first."""
        entries = [booking_document(booking) for booking in bookings]
        if version == 0:
            try:
                await self._collection.insert_one({"_id": key, "version": 1, "bookings": entries})
            except DuplicateKeyError:
                return False
            return True
        result = await self._collection.update_one(
            {"_id": key, "version": version}, {"$set": {"bookings": entries}, "$inc": {"version": 1}}
        )
        return bool(result.matched_count)
