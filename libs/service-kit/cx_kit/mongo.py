"""MongoDB through PyMongo's asyncio API (AsyncMongoClient; Motor is past end of life)."""

from __future__ import annotations

from pymongo import AsyncMongoClient

# UTC-aware datetimes in and out, and short timeouts so an outage becomes a 503, not a hung request.
CLIENT_OPTIONS = {"tz_aware": True, "serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "uuidRepresentation": "standard"}


def connect_mongo(url: str, app_name: str) -> AsyncMongoClient:
    """A client for `url`; connecting is lazy, so this never blocks start-up."""
    return AsyncMongoClient(url, appname=app_name, **CLIENT_OPTIONS)


async def mongo_reachable(client: AsyncMongoClient, timeout_s: float = 2.0) -> bool:
    """True when the server answers a ping within `timeout_s`."""
    try:
        await client.admin.command("ping", maxTimeMS=int(timeout_s * 1000))
    except Exception:
        return False
    return True
