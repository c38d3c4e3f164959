"""The notifier's HTTP routes (besides the kit's /healthz, /readyz, /metrics): counts only, no personal data."""

from __future__ import annotations

from datetime import datetime

from async_lru import alru_cache
from fastapi import APIRouter
from pydantic import BaseModel, Field

from cx_contracts.scalars import utc_now
from cx_kit.outbox import OutboxRelay

from cx_notifier.adapters.ledger import MailLedger


class NotifierStatus(BaseModel):
    """How many ledger entries are in each status; nothing about who they are for."""

    proposals: dict[str, int] = Field(description="Proposal mails (visitor and host) by status.")
    digests: dict[str, int] = Field(description="Digests by status.")
    events_waiting: int = Field(description="Ledger entries whose NotificationSent is not yet published.")
    counted_at: datetime = Field(description="When these counts were made; they are made again at most every few s.")


def status_router(ledger: MailLedger, relay: OutboxRelay, *, cache_s: float) -> APIRouter:
    """`GET /api/notifier/status`."""
    router = APIRouter(prefix="/api/notifier", tags=["notifier"])

    # Counting groups the whole ledger: done at most once per `cache_s`, and callers arriving meanwhile share
    # the count in progress, so polling the route (a dashboard, many of them) costs the store nothing more.
    @alru_cache(maxsize=1, ttl=cache_s)
    async def counted() -> NotifierStatus:
        counts = await ledger.counts()
        return NotifierStatus(
            proposals=counts["proposals"],
            digests=counts["digests"],
            events_waiting=await relay.pending_count(),
            counted_at=utc_now(),
        )

    @router.get("/status", response_model=NotifierStatus, summary="Counts of the sent-mail ledger by status")
    async def status() -> NotifierStatus:
        return await counted()

    return router
