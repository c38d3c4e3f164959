"""A mail the relay accepted is recorded with patience: a short store outage must not make it go out again.

The use cases run here on in-memory stand-ins for the ledger, the relay and the outbox (the Protocols of
cx_notifier.handlers.interfaces); the integration tests run the same code on FerretDB, Kafka and Mailpit.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from cx_contracts import examples
from cx_contracts.api import ContactCard
from cx_contracts.events import MatchFound, NotificationSent

from cx_notifier.adapters.templates import MailTemplates
from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.ledger import LedgerEntry, MailStatus
from cx_notifier.domain.proposals import Links, OutgoingMail
from cx_notifier.handlers import mails
from cx_notifier.handlers.composing import MailComposer
from cx_notifier.handlers.mails import Notifier

pytestmark = pytest.mark.unit

ACCEPTED_AT = datetime(2027, 3, 1, 10, 30, 5, tzinfo=UTC)


class StoreDown(Exception):
    """The store did not answer."""


class MemoryLedger:
    """The ledger's guarded steps on a dict; `mark_sent` fails its first `unrecordable` calls."""

    def __init__(self, unrecordable: int = 0) -> None:
        self.entries: dict[str, LedgerEntry] = {}
        self.unrecordable = unrecordable
        self.mark_sent_calls = 0
        self.events: list[NotificationSent] = []

    async def get(self, entry_id: str) -> LedgerEntry | None:
        return self.entries.get(entry_id)

    async def get_many(self, entry_ids: Iterable[str]) -> list[LedgerEntry]:
        return [self.entries[i] for i in entry_ids if i in self.entries]

    async def cap_position(self, recipient_id: str, period: int, entry_id: str) -> int:
        return 0

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

    def _update(self, entry_id: str, **fields: object) -> None:
        self.entries[entry_id] = self.entries[entry_id].model_copy(update=fields)


class Contacts:
    def __init__(self, *cards: ContactCard) -> None:
        self.cards = {str(c.id): c for c in cards}

    async def host(self, host_id: str) -> ContactCard | None:
        return self.cards.get(host_id)

    async def visitor(self, application_id: str) -> ContactCard | None:
        return self.cards.get(application_id)


class Relay:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    async def send(self, mail: OutgoingMail) -> datetime:
        self.sent.append(mail)
        return ACCEPTED_AT


class Outbox:
    def __init__(self) -> None:
        self.named: list[str] = []

    def publish_soon(self, entry_id: str) -> None:
        self.named.append(entry_id)


class Metrics:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []

    def finished(self, kind: str, outcome: str) -> None:
        self.outcomes.append((kind, outcome))

    def delivery_failed(self, *, uncertain: bool) -> None: ...

    def unconfirmed(self, seconds: float) -> None: ...


class World:
    def __init__(self, make_card, unrecordable: int) -> None:
        self.visitor = make_card("visitor")
        self.host = make_card("host")
        self.ledger = MemoryLedger(unrecordable)
        self.relay = Relay()
        self.outbox = Outbox()
        cap = RecipientCap(20, 86400)
        composer = MailComposer(
            contacts=Contacts(self.visitor, self.host),
            templates=MailTemplates(),
            ledger=self.ledger,
            cap=cap,
            links=Links("https://exchange.example"),
        )
        self.notifier = Notifier(
            ledger=self.ledger,
            composer=composer,
            relay=self.relay,
            outbox=self.outbox,
            metrics=Metrics(),
            cap=cap,
            mail_domain="cx.example",
        )

    def run(self) -> MatchFound:
        return examples.match_found(application_id=self.visitor.id, host_ids=[self.host.id])


async def test_a_sent_mail_the_store_cannot_record_at_first_is_recorded_once_it_answers_and_not_sent_again(
    make_card,
) -> None:
    world = World(make_card, unrecordable=3)

    await world.notifier.on_match_found(world.run())

    assert len(world.relay.sent) == 2, "one mail each to the visitor and the host, none repeated"
    assert {e.status for e in world.ledger.entries.values()} == {MailStatus.SENT}
    assert world.ledger.mark_sent_calls == 2 + 3, "the first mail's record was tried until it held"
    assert [e.sent_at for e in world.ledger.events] == [ACCEPTED_AT, ACCEPTED_AT]
    assert world.outbox.named == list(world.ledger.entries), "each NotificationSent published once recorded"


async def test_recording_gives_up_after_its_patience_and_leaves_the_claimed_entry_to_the_sweep(
    make_card, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mails, "MARK_SENT_PATIENCE_S", 0.5)
    world = World(make_card, unrecordable=1000)
    started = time.monotonic()

    with pytest.raises(StoreDown):
        await world.notifier.on_match_found(world.run())

    assert time.monotonic() - started < 0.5 + 0.5, "no wait beyond the patience"
    assert world.ledger.mark_sent_calls >= 2, "it retried before giving up"
    assert len(world.relay.sent) == 1, "the mail went out once; the next recipient waits for the retried record"
    visitor_entry = next(iter(world.ledger.entries.values()))
    assert visitor_entry.status is MailStatus.PENDING and visitor_entry.claimed_until is not None
    assert world.outbox.named == []
