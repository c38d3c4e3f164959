"""The mails of an exchange's steps: who hears of which step, the ledger entries a step asks for, and what the
mail says (the other side's contact only from the acceptance on, read at send time like every contact).

One entry per (exchange, revision, recipient): a step is one revision, so a redelivered or replayed event plans
nothing new. Exchange mails are not proposals: the cap and the digest do not hold them back (a side hears of
its own exchange's steps, at most a handful of mails per exchange).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from cx_contracts.api import Contact, ContactCard
from cx_contracts.events import ExchangeEvent, ExchangeWithdrawn, NotificationKind
from cx_contracts.exchange import SIDES, Grant, Side, euros
from cx_contracts.questionnaire import OrganisationState
from cx_contracts.vocabulary import ExchangeFormat

from cx_notifier.domain.ledger import LedgerEntry, MailStatus, message_id

EXCHANGE_KINDS = {
    "requested": NotificationKind.EXCHANGE_REQUESTED,
    "accepted": NotificationKind.EXCHANGE_ACCEPTED,
    "declined": NotificationKind.EXCHANGE_DECLINED,
    "withdrawn": NotificationKind.EXCHANGE_WITHDRAWN,
    "agreed": NotificationKind.EXCHANGE_AGREED,
    "completed": NotificationKind.EXCHANGE_COMPLETED,
}
# The steps after which the two sides see each other's contact; the acceptance's mail gives it.
CONTACT_STEPS = frozenset({NotificationKind.EXCHANGE_ACCEPTED})
_STEP = TypeAdapter(Annotated[ExchangeEvent, Field(discriminator="event_type")])


def recipients(step: ExchangeEvent) -> tuple[Side, ...]:
    """Who hears of a step: the host of a request, the visitor of a decline, the other side of a withdrawal,
    both sides of an acceptance, an agreement and a completion."""
    if isinstance(step, ExchangeWithdrawn):
        return ("host",) if step.withdrawn_by == "visitor" else ("visitor",)
    only: dict[str, tuple[Side, ...]] = {"requested": ("host",), "declined": ("visitor",)}
    return only.get(step.state.value, SIDES)


def exchange_entry_id(exchange_id: str, revision: int, recipient_id: str) -> str:
    """Ledger id of a step's mail to one side: the same on every redelivery and replay."""
    return f"exchange/{exchange_id}/{revision}/{recipient_id}"


def plan_step(
    step: ExchangeEvent, *, period: int, domain: str, now: datetime, traceparent: str | None = None
) -> list[LedgerEntry]:
    """The pending entries a step asks for, one per side that hears of it."""
    record_ids = {"visitor": str(step.application_id), "host": str(step.host_id)}
    entries = []
    for side in recipients(step):
        entry_id = exchange_entry_id(str(step.exchange_id), step.revision, record_ids[side])
        entries.append(
            LedgerEntry(
                id=entry_id,
                kind=EXCHANGE_KINDS[step.state.value],
                recipient_kind=side,
                recipient_id=record_ids[side],
                application_id=str(step.application_id),
                exchange=step.model_dump(mode="json"),
                period=period,
                status=MailStatus.PENDING,
                message_id=message_id(entry_id, domain),
                planned_at=now,
                traceparent=traceparent,
            )
        )
    return entries


def step_of(entry: LedgerEntry) -> ExchangeEvent:
    """The exchange event an entry was planned from."""
    return _STEP.validate_python(entry.exchange)


def other_side(entry: LedgerEntry) -> tuple[Side, str]:
    """The side the recipient's exchange is with, and its record id."""
    step = step_of(entry)
    if entry.recipient_kind == "host":
        return "visitor", str(step.application_id)
    return "host", str(step.host_id)


@dataclass(frozen=True)
class ExchangeMail:
    """A step's mail to one side: the exchange, the other organisation, and its contact once accepted."""

    kind: NotificationKind
    contact_name: str
    side: Side
    organisation: OrganisationState
    other: OrganisationState | None  # None when the other side's record is gone meanwhile
    other_contact: Contact | None
    start: date
    end: date
    working_days: int
    format: ExchangeFormat
    participants: int
    grant: Grant | None
    withdrawn_by: Side | None
    exchange_page: str

    def context(self) -> dict[str, Any]:
        """What the templates read besides the organisations."""
        return {
            "step": self.kind.value.removeprefix("exchange-"),
            "contact_name": self.contact_name,
            "side": self.side,
            "other_contact": self.other_contact,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "working_days": self.working_days,
            "format": self.format.label,
            "participants": self.participants,
            "grant": self.grant,
            "amount": euros(self.grant.amount_cents) if self.grant is not None else None,
            "withdrawn_by": self.withdrawn_by,
            "exchange_page": self.exchange_page,
        }


def exchange_mail(entry: LedgerEntry, recipient: ContactCard, other: ContactCard | None, page: str) -> ExchangeMail:
    """The mail of `entry` to `recipient`; the other side's contact only where the step gives it."""
    step = step_of(entry)
    return ExchangeMail(
        kind=entry.kind,
        contact_name=recipient.contact.name,
        side=entry.recipient_kind,
        organisation=recipient.organisation,
        other=other.organisation if other is not None else None,
        other_contact=other.contact if other is not None and entry.kind in CONTACT_STEPS else None,
        start=step.dates.start,
        end=step.dates.end,
        working_days=step.working_days,
        format=step.format,
        participants=step.participants,
        grant=step.grant,
        withdrawn_by=step.withdrawn_by if isinstance(step, ExchangeWithdrawn) else None,
        exchange_page=page,
    )
