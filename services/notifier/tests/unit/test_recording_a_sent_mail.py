"""A mail the relay accepted is recorded with patience: a short store outage must not make it go out again.

The use cases run here on in-memory stand-ins for the ledger, the relay and the outbox (tests/unit/conftest.py);
the integration tests run the same code on FerretDB, Kafka and Mailpit.
"""

from __future__ import annotations

import time

import pytest

from cx_contracts import examples

from cx_notifier.domain.ledger import MailStatus
from cx_notifier.handlers import mails

pytestmark = pytest.mark.unit


def _world(memory_world, make_card, unrecordable: int):
    visitor, host = make_card("visitor"), make_card("host")
    world = memory_world(visitor, host, unrecordable=unrecordable)
    return world, examples.match_found(application_id=visitor.id, host_ids=[host.id])


async def test_a_sent_mail_the_store_cannot_record_at_first_is_recorded_once_it_answers_and_not_sent_again(
    memory_world, make_card
) -> None:
    world, run = _world(memory_world, make_card, unrecordable=3)

    await world.notifier.on_match_found(run)

    assert len(world.relay.sent) == 2, "one mail each to the visitor and the host, none repeated"
    assert {e.status for e in world.ledger.entries.values()} == {MailStatus.SENT}
    assert world.ledger.mark_sent_calls == 2 + 3, "the first mail's record was tried until it held"
    assert [e.sent_at for e in world.ledger.events] == [world.now, world.now], "when the relay accepted them"
    assert world.outbox.named == list(world.ledger.entries), "each NotificationSent published once recorded"


async def test_recording_gives_up_after_its_patience_and_leaves_the_claimed_entry_to_the_sweep(
    memory_world, make_card, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mails, "MARK_SENT_PATIENCE_S", 0.5)
    world, run = _world(memory_world, make_card, unrecordable=1000)
    started = time.monotonic()

    with pytest.raises(Exception, match="the store did not answer"):
        await world.notifier.on_match_found(run)

    assert time.monotonic() - started < 0.5 + 0.5, "no wait beyond the patience"
    assert world.ledger.mark_sent_calls >= 2, "it retried before giving up"
    assert len(world.relay.sent) == 1, "the mail went out once; the next recipient waits for the retried record"
    visitor_entry = next(iter(world.ledger.entries.values()))
    assert visitor_entry.status is MailStatus.PENDING and visitor_entry.claimed_until is not None
    assert world.outbox.named == []
