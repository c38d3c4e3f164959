"""The notifier's HTTP routes (besides the kit's /healthz, /readyz, /metrics): counts only, no personal data."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cx_kit.outbox import OutboxRelay

from cx_notifier.adapters.ledger import MailLedger


class NotifierStatus(BaseModel):
    """How many ledger entries are in each status; nothing about who they are for."""

    proposals: dict[str, int] = Field(description="Proposal mails (visitor and host) by status.")
    digests: dict[str, int] = Field(description="Digests by status.")
    events_waiting: int = Field(description="Ledger entries whose NotificationSent is not yet published.")


def status_router(ledger: MailLedger, relay: OutboxRelay) -> APIRouter:
    """`GET /api/notifier/status`."""
    router = APIRouter(prefix="/api/notifier", tags=["notifier"])

    @router.get("/status", response_model=NotifierStatus, summary="Counts of the sent-mail ledger by status")
    async def status() -> NotifierStatus:
        counts = await ledger.counts()
        return NotifierStatus(
            proposals=counts["proposals"], digests=counts["digests"], events_waiting=await relay.pending_count()
        )

    return router
