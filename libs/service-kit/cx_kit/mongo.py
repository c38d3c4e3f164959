"""MongoDB through PyMongo's asyncio API (AsyncMongoClient; Motor is past end of life)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

# UTC-aware datetimes in and out, and short timeouts so an outage becomes a 503, not a hung request.
# (Tests shorten the timeouts by changing this mapping, hence one mapping of the client's keyword options.)
CLIENT_OPTIONS: dict[str, Any] = {
    "tz_aware": True,
    "serverSelectionTimeoutMS": 5000,
    "connectTimeoutMS": 5000,
    "uuidRepresentation": "standard",
}


def connect_mongo(url: str, app_name: str, max_pool_size: int = 1) -> AsyncMongoClient:
    """A client for `url`; connecting is lazy, so this never blocks start-up.

    One connection by default: FerretDB 1.x (the local store) applies a single-document update as
    read-modify-write outside any transaction, so two updates of one document on two connections can
    lose one (measured: 200 concurrent $inc gave 3). A server handles one connection's requests in
    order, so one connection per process keeps every update, the outbox and revision checks intact.
    On a real MongoDB single-document updates are atomic: raise MONGO_MAX_POOL_SIZE there.
    """
    return AsyncMongoClient(url, appname=app_name, maxPoolSize=max_pool_size, **CLIENT_OPTIONS)


async def mongo_reachable(client: AsyncMongoClient, timeout_s: float = 2.0) -> bool:
    """True when the server answers a ping within `timeout_s`."""
    try:
        await client.admin.command("ping", maxTimeMS=int(timeout_s * 1000))
    except Exception:
        return False
    return True
