"""The sent-mail ledger's words: one entry per (match run, recipient), or per digest, and what became of it.

An entry is written *before* its mail is sent (status pending) and updated after (sent, skipped, ...), so
a restart knows what was done. Entries hold no personal data: contacts are read from the owning services
at send time, and only ids, ranks and explanations (what the events already carry) are kept.

Here are the rules: statuses, deterministic ids, planning a run (from who was introduced to whom,
cx_notifier.domain.introductions) and a digest, and the NotificationSent an entry announces. How an
entry is stored is the adapter's business (cx_notifier.adapters.ledger).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from cx_contracts.events import HostMatch, MatchFound, NotificationKind, NotificationSent

from cx_notifier.domain.introductions import Introductions

# Ids derived from ledger ids (notification ids, event ids) are UUIDv5 in this namespace, so they are the
# same on every replay and every replica.
LEDGER_NAMESPACE = UUID("3d0b8c1e-6a43-4f57-9a52-5d1c0f3e8b27")

RecipientKind = Literal["host", "visitor"]


class MailStatus(StrEnum):
    """Where a ledger entry stands."""

    PENDING = "pending"  # planned; the mail is to be sent (or is being sent, if claimed)
    SENT = "sent"  # the mail relay accepted the message
    SKIPPED = "skipped"  # nothing to send: the organisation is unknown, withdrawn or erased, or no host is left
    DEFERRED = "deferred"  # waits for the recipient's digest of its period: over the cap, or a visitor's new hosts
    DIGESTED = "digested"  # a deferred proposal that went out in a digest
    REJECTED = "rejected"  # the relay refused the recipient for good (5xx); retrying cannot help


# Why an entry is deferred to its recipient's digest, or skipped at planning.
OVER_THE_CAP = "over the cap"
NEW_HOSTS_WAIT = "new hosts wait for the visitor's digest"
NO_HOST_PROPOSED = "no host proposed"
NO_NEW_HOST = "no host new to the visitor"

# Statuses after which nothing more happens to an entry.
FINAL_STATUSES = frozenset({MailStatus.SENT, MailStatus.SKIPPED, MailStatus.DIGESTED, MailStatus.REJECTED})


class LedgerEntry(BaseModel):
    """One mail the notifier means to send, and what became of it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(description="Deterministic: `<match_run_id>/<recipient_id>` or `digest/<recipient_id>/<period>`.")
    kind: NotificationKind
    recipient_kind: RecipientKind
    recipient_id: str
    match_run_id: str | None = None
    application_id: str | None = None
    trigger: str | None = None
    matches: list[HostMatch] = Field(
        default_factory=list, description="A visitor's proposed hosts, or a host's own line of the ranking."
    )
    period: int = Field(
        description="The period the entry was planned in (see RecipientCap); a deferred entry waits for its digest."
    )
    status: MailStatus
    message_id: str
    members: list[str] = Field(default_factory=list, description="A digest's deferred entries.")
    planned_at: datetime
    attempts: int = Field(0, description="Claims taken to send it; one per SMTP conversation started.")
    failed_attempts: int = Field(0, description="Attempts the relay certainly did not accept.")
    uncertain_attempts: int = Field(0, description="Attempts lost after the message data went out.")
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    reason: str | None = None
    digest_id: str | None = None
    exchange: dict[str, Any] | None = Field(
        None, description="An exchange step's event (ids, dates, format, grant: no personal data) its mail tells of."
    )
    traceparent: str | None = Field(
        None, description="Trace context of the MatchFound the entry came from; its NotificationSent continues it."
    )

    def unconfirmed_attempts(self) -> int:
        """Attempts that neither failed for certain nor were recorded as the one that was sent.

        Only these can have produced a second copy of the mail: the process died (or lost the connection)
        after the relay may have accepted the message and before the ledger said so.
        """
        succeeded = 1 if self.status is MailStatus.SENT else 0
        return max(0, self.attempts - self.failed_attempts - succeeded)

    def deferred(self, reason: str = OVER_THE_CAP) -> LedgerEntry:
        """The entry held back for its recipient's digest of its period (over the cap, or new hosts)."""
        return self.model_copy(update={"status": MailStatus.DEFERRED, "reason": reason})

    def finished_unsent(self, reason: str) -> LedgerEntry:
        """The entry with nothing to send: skipped, saying why."""
        return self.model_copy(update={"status": MailStatus.SKIPPED, "reason": reason})


def proposal_id(match_run_id: UUID | str, recipient_id: UUID | str) -> str:
    """Ledger id of a run's mail to one recipient: the same on every redelivery and replay."""
    return f"{match_run_id}/{recipient_id}"


def digest_id(recipient_id: UUID | str, period: int) -> str:
    """Ledger id of one recipient's digest of one period."""
    return f"digest/{recipient_id}/{period}"


def message_id(entry_id: str, domain: str) -> str:
    """The mail's Message-ID: one per ledger entry, so a copy sent twice is recognisable downstream."""
    return "<" + entry_id.replace("/", ".") + "@" + domain + ">"


def notification_id(entry_id: str) -> UUID:
    """Id of the notification in NotificationSent (stable for the entry)."""
    return uuid5(LEDGER_NAMESPACE, entry_id)


def notification_event_id(entry_id: str) -> UUID:
    """event_id of the entry's NotificationSent: stable, so a consumer drops a repeat."""
    return uuid5(LEDGER_NAMESPACE, entry_id + "#sent")


def plan_run(
    match: MatchFound,
    introductions: Introductions,
    *,
    period: int,
    domain: str,
    now: datetime,
    traceparent: str | None = None,
) -> list[LedgerEntry]:
    """The entries a match run asks for: the visitor's first, then one per host the run introduced, by rank.

    `introductions` is the application's record once this run is recorded: only the hosts this run
    introduced are mailed, to the visitor and each told about the visitor. The visitor's first list is
    pending (the caller defers what is over a recipient's cap); a later run's new hosts are deferred to the
    visitor's digest of the period. A run that introduces no host plans the visitor's entry as skipped.
    """
    run = str(match.match_run_id)
    application = str(match.application_id)
    new = introductions.introduced_by(match)
    introduced = [host for host in match.matches if str(host.host_id) in new]

    def entry(
        kind: NotificationKind, recipient_kind: RecipientKind, recipient: str, matches: list[HostMatch]
    ) -> LedgerEntry:
        entry_id = proposal_id(run, recipient)
        return LedgerEntry(
            id=entry_id,
            kind=kind,
            recipient_kind=recipient_kind,
            recipient_id=recipient,
            match_run_id=run,
            application_id=application,
            trigger=match.trigger,
            matches=matches,
            period=period,
            status=MailStatus.PENDING,
            message_id=message_id(entry_id, domain),
            planned_at=now,
            traceparent=traceparent,
        )

    visitor = entry(NotificationKind.MATCH_PROPOSAL_VISITOR, "visitor", application, introduced)
    if not match.matches:
        visitor = visitor.finished_unsent(NO_HOST_PROPOSED)
    elif not introduced:
        visitor = visitor.finished_unsent(NO_NEW_HOST)
    elif not introductions.is_first_list(match):
        visitor = visitor.deferred(NEW_HOSTS_WAIT)
    return [visitor] + [
        entry(NotificationKind.MATCH_PROPOSAL_HOST, "host", str(host.host_id), [host]) for host in introduced
    ]


DigestKey = tuple[RecipientKind, str, int]


def digest_groups(deferred: Iterable[LedgerEntry]) -> dict[DigestKey, list[LedgerEntry]]:
    """Deferred entries by (recipient kind, recipient id, period): one digest each, members in the given order."""
    groups: dict[DigestKey, list[LedgerEntry]] = {}
    for entry in deferred:
        groups.setdefault((entry.recipient_kind, entry.recipient_id, entry.period), []).append(entry)
    return groups


def plan_digest(key: DigestKey, members: Iterable[LedgerEntry], *, domain: str, now: datetime) -> LedgerEntry:
    """The pending digest of one recipient and period, listing the deferred proposals it sends."""
    recipient_kind, recipient_id, period = key
    entry_id = digest_id(recipient_id, period)
    return LedgerEntry(
        id=entry_id,
        kind=NotificationKind.DIGEST,
        recipient_kind=recipient_kind,
        recipient_id=recipient_id,
        period=period,
        status=MailStatus.PENDING,
        message_id=message_id(entry_id, domain),
        members=[member.id for member in members],
        planned_at=now,
    )


def members_status(digest: LedgerEntry) -> MailStatus:
    """What the members of a finished digest become: digested when it was sent, skipped otherwise."""
    return MailStatus.DIGESTED if digest.status is MailStatus.SENT else MailStatus.SKIPPED


def notification_sent(entry: LedgerEntry, sent_at: datetime) -> NotificationSent:
    """The event announcing the entry's mail; its ids derive from the entry, so every republish is the same."""
    return NotificationSent(
        event_id=notification_event_id(entry.id),
        notification_id=notification_id(entry.id),
        recipient_kind=entry.recipient_kind,
        recipient_id=UUID(entry.recipient_id),
        kind=entry.kind,
        match_run_id=UUID(entry.match_run_id) if entry.match_run_id else None,
        exchange_id=UUID(entry.exchange["exchange_id"]) if entry.exchange else None,
        sent_at=sent_at,
    )
