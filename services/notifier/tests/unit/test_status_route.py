"""GET /api/notifier/status counts the ledger at most once per period, however often and however many ask."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cx_notifier.entrypoints.http import status_router

pytestmark = pytest.mark.unit


class CountingLedger:
    """A ledger whose counting is slow and counted."""

    def __init__(self) -> None:
        self.counted = 0

    async def counts(self) -> dict[str, dict[str, int]]:
        self.counted += 1
        await asyncio.sleep(0.05)
        return {"proposals": {"sent": self.counted}, "digests": {"sent": 0}}


class Relay:
    async def pending_count(self) -> int:
        return 0


async def test_polling_the_status_counts_the_ledger_once_per_period_and_callers_share_a_count_in_progress() -> None:
    ledger = CountingLedger()
    app = FastAPI()
    app.include_router(status_router(ledger, Relay(), cache_s=0.5))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifier") as client:
        at_once = await asyncio.gather(*(client.get("/api/notifier/status") for _ in range(20)))
        again: Any = await client.get("/api/notifier/status")
        assert ledger.counted == 1, "twenty callers at once and one more right after: one count"
        await asyncio.sleep(0.6)
        later = await client.get("/api/notifier/status")

    assert {r.json()["proposals"]["sent"] for r in at_once} == {1} and again.json() == at_once[0].json()
    assert ledger.counted == 2 and later.json()["proposals"]["sent"] == 2, "counted again once the period ended"
    assert later.json()["counted_at"] > at_once[0].json()["counted_at"]
