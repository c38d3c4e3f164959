"""What the outbox and revision checks rely on, proved on the real local store (FerretDB)."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.integration


async def test_concurrent_updates_of_one_document_through_a_service_client_are_all_kept(mongo_database):
    collection = mongo_database["counters"]
    await collection.insert_one({"_id": "c", "count": 0, "seen": []})

    async def bump(i: int) -> None:
        await collection.update_one({"_id": "c"}, {"$inc": {"count": 1}, "$push": {"seen": i}})

    await asyncio.gather(*(bump(i) for i in range(100)))
    document = await collection.find_one({"_id": "c"})
    assert document["count"] == 100
    assert sorted(document["seen"]) == list(range(100))


async def test_a_revision_guarded_update_has_exactly_one_winner_among_concurrent_writers(mongo_database):
    collection = mongo_database["aggregates"]
    await collection.insert_one({"_id": "a", "revision": 1})

    async def write(i: int) -> int:
        result = await collection.update_one({"_id": "a", "revision": 1}, {"$set": {"revision": 2, "by": i}})
        return result.modified_count

    assert sum(await asyncio.gather(*(write(i) for i in range(30)))) == 1
