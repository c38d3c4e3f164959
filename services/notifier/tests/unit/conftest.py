"""In-memory stand-ins for the use cases' interfaces (cx_notifier.handlers.interfaces), and a notifier on them.

The integration tests run the same use cases on FerretDB, Kafka and Mailpit; these let a unit test drive
them, and the clock, with nothing running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cx_contracts.api import ContactCard
from cx_contracts.events import MatchFound, NotificationSent

from cx_notifier.adapters.templates import MailTemplates
from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.ledger import LedgerEntry, MailStatus
from cx_notifier.domain.proposals import Links, OutgoingMail
from cx_notifier.handlers.composing import MailComposer
from cx_notifier.handlers.mails import Notifier

START = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)


class StoreDown(Exception):
    """The store did not answer."""


class MemoryLedger:
    """The ledger's guarded steps on dicts; `mark_sent` fails its first `unrecordable` calls."""

    def __init__(self, unrecordable: int = 0) -> None:
        self.entries: dict[str, LedgerEntry] = {}
        self.introductions: dict[str, Introductions] = {}
        self.counted: dict[tuple[str, int], list[str]] = {}
        self.unrecordable = unrecordable
        self.mark_sent_calls = 0
        self.events: list[NotificationSent] = []

    async def get(self, entry_id: str) -> LedgerEntry | None:
        return self.entries.get(entry_id)

    async def get_many(self, entry_ids: Iterable[str]) -> list[LedgerEntry]:
        return [self.entries[i] for i in entry_ids if i in self.entries]

    async def deferred_before(self, period: int, limit: int) -> list[LedgerEntry]:
        deferred = [e for e in self.entries.values() if e.status is MailStatus.DEFERRED and e.period < period]
        return sorted(deferred, key=lambda e: e.planned_at)[:limit]

    async def cap_position(self, recipient_id: str, period: int, entry_id: str) -> int:
        counted = self.counted.setdefault((recipient_id, period), [])
        if entry_id not in counted:
            counted.append(entry_id)
        return counted.index(entry_id)

    async def introduce(self, match: MatchFound, *, now: datetime) -> Introductions:
        key = str(match.application_id)
        self.introductions[key] = self.introductions.get(key, Introductions()).recorded(match)
        return self.introductions[key]

    async def plan(self, entry: LedgerEntry) -> bool:
        if entry.id in self.entries:
            return False
        self.entries[entry.id] = entry
        return True

    async def claim(self, entry_id: str, claimant: str, *, now: datetime, until: datetime) -> bool:
        entry = self.entries[entry_id]
        if entry.status is not MailStatus.PENDING or (entry.claimed_until is not None and entry.claimed_until >= now):
            return False
        self._update(entry_id, attempts=entry.attempts + 1, claimed_by=claimant, claimed_until=until)
        return True

    async def release(self, entry_id: str, claimant: str, *, reason: str, uncertain: bool) -> None:
        self._update(entry_id, claimed_until=None, reason=reason)

    async def mark_sent(self, entry: LedgerEntry, event: NotificationSent) -> bool:
        self.mark_sent_calls += 1
        if self.mark_sent_calls <= self.unrecordable:
            raise StoreDown("the store did not answer")
        self._update(entry.id, status=MailStatus.SENT, sent_at=event.sent_at, claimed_until=None)
        self.events.append(event)
        return True

    async def mark_finished(self, entry_id: str, status: MailStatus, reason: str) -> bool:
        self._update(entry_id, status=status, reason=reason)
        return True

    async def close_members(self, member_ids: list[str], digest_id: str, status: MailStatus) -> None:
        for member in member_ids:
            if self.entries[member].status is MailStatus.DEFERRED:
                self._update(member, status=status, digest_id=digest_id)

    async def move_to_period(self, entry_ids: list[str], period: int) -> None:
        for entry_id in entry_ids:
            self._update(entry_id, period=period)

    def _update(self, entry_id: str, **fields: object) -> None:
        self.entries[entry_id] = self.entries[entry_id].model_copy(update=fields)


class MemoryContacts:
    """Contact cards by id; an id without a card is an organisation that is gone."""

    def __init__(self, *cards: ContactCard) -> None:
        self.cards = {str(c.id): c for c in cards}

    async def host(self, host_id: str) -> ContactCard | None:
        return self.cards.get(host_id)

    async def visitor(self, application_id: str) -> ContactCard | None:
        return self.cards.get(application_id)


class MemoryRelay:
    """Accepts every mail, at the world's clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.sent: list[OutgoingMail] = []
        self._clock = clock

    async def send(self, mail: OutgoingMail) -> datetime:
        self.sent.append(mail)
        return self._clock()

    def to(self, card: ContactCard) -> list[OutgoingMail]:
        """The mails `card` received, in the order sent."""
        return [mail for mail in self.sent if mail.to_address == card.contact.email]


class MemoryOutbox:
    def __init__(self) -> None:
        self.named: list[str] = []

    def publish_soon(self, entry_id: str) -> None:
        self.named.append(entry_id)


class MemoryMetrics:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []

    def finished(self, kind: str, outcome: str) -> None:
        self.outcomes.append((kind, outcome))

    def delivery_failed(self, *, uncertain: bool) -> None: ...

    def unconfirmed(self, seconds: float) -> None: ...


class MemoryWorld:
    """A Notifier on the in-memory stand-ins, with a clock the test moves."""

    def __init__(self, *cards: ContactCard, unrecordable: int = 0, cap: RecipientCap | None = None) -> None:
        self.now = START
        self.cap = cap or RecipientCap(20, 86400)
        self.ledger = MemoryLedger(unrecordable)
        self.contacts = MemoryContacts(*cards)
        self.relay = MemoryRelay(lambda: self.now)
        self.outbox = MemoryOutbox()
        composer = MailComposer(
            contacts=self.contacts,
            templates=MailTemplates(),
            ledger=self.ledger,
            cap=self.cap,
            links=Links("https://exchange.example"),
        )
        self.notifier = Notifier(
            ledger=self.ledger,
            composer=composer,
            relay=self.relay,
            outbox=self.outbox,
            metrics=MemoryMetrics(),
            cap=self.cap,
            mail_domain="cx.example",
            clock=lambda: self.now,
        )

    def add(self, *cards: ContactCard) -> None:
        """Serve these cards too."""
        self.contacts.cards.update({str(c.id): c for c in cards})

    def advance(self, seconds: float) -> None:
        """Move the clock on."""
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def memory_world() -> Callable[..., MemoryWorld]:
    """Factory of notifiers on in-memory stand-ins (see MemoryWorld)."""

    def build(*cards: ContactCard, **options: Any) -> MemoryWorld:
        return MemoryWorld(*cards, **options)

    return build
