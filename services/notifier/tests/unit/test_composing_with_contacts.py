"""Who gets a mail: contact cards read at send time decide (a fake directory stands in for the owning services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cx_contracts import examples
from cx_contracts.api import ContactCard
from cx_contracts.events import MatchFound

from cx_notifier.adapters.templates import MailTemplates
from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.ledger import LedgerEntry, plan_run
from cx_notifier.domain.proposals import Links, OutgoingMail
from cx_notifier.handlers.composing import MailComposer

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)


class FakeContacts:
    """Cards by id; an id without a card is an organisation that is gone (a 404 from its service)."""

    def __init__(self, *cards: ContactCard) -> None:
        self.cards = {(c.kind, str(c.id)): c for c in cards}
        self.asked: list[tuple[str, str]] = []

    async def host(self, host_id: str) -> ContactCard | None:
        self.asked.append(("host", host_id))
        return self.cards.get(("host", host_id))

    async def visitor(self, application_id: str) -> ContactCard | None:
        self.asked.append(("visitor", application_id))
        return self.cards.get(("visitor", application_id))


def _first_list(match: MatchFound) -> list[LedgerEntry]:
    """The entries of the visitor's first run: every host is new to it."""
    return plan_run(match, Introductions().recorded(match), period=1, domain="cx.example", now=NOW)


def _composer(contacts: FakeContacts) -> MailComposer:
    # No ledger: only digests read one (their members).
    return MailComposer(
        contacts=contacts,
        templates=MailTemplates(),
        ledger=None,  # type: ignore[arg-type]
        cap=RecipientCap(20, 86400),
        links=Links("https://exchange.example"),
    )


async def test_each_recipient_gets_its_mail_at_its_own_address_with_the_entrys_message_id(make_card) -> None:
    visitor = make_card("visitor", languages=("bg", "en"))
    hosts = [make_card("host", index=i) for i in range(3)]
    entries = _first_list(examples.match_found(application_id=visitor.id, host_ids=[h.id for h in hosts]))
    composer = _composer(FakeContacts(visitor, *hosts))

    mails = [await composer.compose(entry) for entry in entries]

    assert all(isinstance(m, OutgoingMail) for m in mails)
    assert [m.to_address for m in mails] == [visitor.contact.email] + [h.contact.email for h in hosts]
    assert [m.message_id for m in mails] == [e.message_id for e in entries]
    assert mails[0].language == "en", "Bulgarian has no templates yet"


async def test_a_host_gone_from_the_catalogue_is_left_out_of_the_visitors_mail_and_gets_none(make_card) -> None:
    visitor = make_card("visitor")
    kept, gone = make_card("host", index=0), make_card("host", index=1)
    entries = _first_list(examples.match_found(application_id=visitor.id, host_ids=[kept.id, gone.id]))
    composer = _composer(FakeContacts(visitor, kept))

    visitor_mail = await composer.compose(entries[0])
    gone_mail = await composer.compose(entries[2])

    assert isinstance(visitor_mail, OutgoingMail)
    assert kept.organisation.name in visitor_mail.text
    assert gone.organisation.name not in visitor_mail.text
    assert gone_mail == "the host is unknown, withdrawn or erased"


async def test_a_withdrawn_visitor_gets_no_mail_and_its_hosts_are_not_told_about_it(make_card) -> None:
    host = make_card("host")
    entries = _first_list(examples.match_found(host_ids=[host.id]))
    composer = _composer(FakeContacts(host))

    assert await composer.compose(entries[0]) == "the visitor is unknown, withdrawn or erased"
    assert await composer.compose(entries[1]) == "the visitor is unknown, withdrawn or erased"


async def test_a_visitor_whose_hosts_are_all_gone_gets_no_empty_mail(make_card) -> None:
    visitor = make_card("visitor")
    entries = _first_list(examples.match_found(application_id=visitor.id))

    assert await _composer(FakeContacts(visitor)).compose(entries[0]) == "no proposed host is left in the catalogue"
