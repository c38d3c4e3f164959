"""What the use cases work through: small interfaces the adapters implement (and tests fake), and the errors
a mail relay raises, which say how sure we are that a mail was not sent."""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import datetime
from typing import Protocol

from cx_contracts.api import ContactCard
from cx_contracts.events import MatchFound, NotificationSent

from cx_notifier.domain.exchanges import ExchangeMail
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.ledger import LedgerEntry, MailStatus
from cx_notifier.domain.proposals import Digest, HostProposal, OutgoingMail, RenderedMail, VisitorProposal


class DeliveryError(Exception):
    """The relay did not confirm the message; retry later."""

    uncertain = False


class RecipientRefused(Exception):
    """The relay refused this recipient or message for good (5xx); sending it again cannot help."""


class Ledger(Protocol):
    """The sent-mail ledger: entries by id, the guarded steps of a mail (plan, claim, mark), the cap's counts,
    and who was introduced to whom."""

    async def get(self, entry_id: str) -> LedgerEntry | None: ...

    async def get_many(self, entry_ids: Iterable[str]) -> list[LedgerEntry]: ...

    async def resumable(self, *, now: datetime, planned_before: datetime, limit: int) -> list[LedgerEntry]: ...

    async def deferred_before(self, period: int, limit: int) -> list[LedgerEntry]: ...

    async def cap_position(self, recipient_id: str, period: int, entry_id: str) -> int: ...

    async def introduce(self, match: MatchFound, *, now: datetime) -> Introductions:
        """Record the run's hosts that are new to its visitor (adding only); the application's record after."""
        ...

    async def plan(self, entry: LedgerEntry) -> bool: ...

    async def claim(self, entry_id: str, claimant: str, *, now: datetime, until: datetime) -> bool: ...

    async def release(self, entry_id: str, claimant: str, *, reason: str, uncertain: bool) -> None: ...

    async def mark_sent(self, entry: LedgerEntry, event: NotificationSent) -> bool: ...

    async def mark_finished(self, entry_id: str, status: MailStatus, reason: str) -> bool: ...

    async def close_members(self, member_ids: list[str], digest_id: str, status: MailStatus) -> None: ...

    async def move_to_period(self, entry_ids: list[str], period: int) -> None: ...

    async def prune(self, planned_before: datetime, period_before: int, introduced_before: datetime) -> int: ...


class ContactDirectory(Protocol):
    """Where the notifier reads contact cards; None means the organisation is gone."""

    async def host(self, host_id: str) -> ContactCard | None: ...

    async def visitor(self, application_id: str) -> ContactCard | None: ...


class Templates(Protocol):
    """Puts a mail's view into words in one of the languages it has templates for."""

    @property
    def languages(self) -> Set[str]: ...

    def visitor_proposal(self, view: VisitorProposal, language: str) -> RenderedMail: ...

    def host_proposal(self, view: HostProposal, language: str) -> RenderedMail: ...

    def digest(self, view: Digest, language: str) -> RenderedMail: ...

    def exchange_step(self, view: ExchangeMail, language: str) -> RenderedMail: ...


class MailRelay(Protocol):
    """Hands a rendered mail to the mail system: raises `DeliveryError` (retry) or `RecipientRefused` (final)."""

    async def send(self, mail: OutgoingMail) -> datetime:
        """Send `mail`; returns when the relay accepted it (UTC)."""
        ...


class NotificationOutbox(Protocol):
    """Publishes the NotificationSent that marking a mail sent queued in the ledger."""

    def publish_soon(self, entry_id: str) -> None: ...


class MailMetrics(Protocol):
    """Counts what became of mails, and times the window in which a crash could repeat one."""

    def finished(self, kind: str, outcome: str) -> None: ...

    def delivery_failed(self, *, uncertain: bool) -> None: ...

    def unconfirmed(self, seconds: float) -> None: ...
