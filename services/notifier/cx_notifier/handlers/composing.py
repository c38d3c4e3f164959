"""Step 2 of every mail: read the contact cards, build what the mail says, and put it into the recipient's words.

An organisation that is gone (no card) gets no mail: composing then answers why, and the entry is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from cx_contracts.api import ContactCard
from cx_contracts.events import NotificationKind

from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.exchanges import exchange_mail, other_side
from cx_notifier.domain.language import choose_language
from cx_notifier.domain.ledger import LedgerEntry
from cx_notifier.domain.proposals import (
    Digest,
    HostProposal,
    Links,
    OutgoingMail,
    ProposedHost,
    VisitorProposal,
    host_proposal,
    proposed_hosts,
    visitor_proposal,
)
from cx_notifier.handlers.interfaces import ContactDirectory, Ledger, Templates


class ContactCards:
    """Contact cards read during one pass, each at most once (a run names its visitor in every host's mail)."""

    def __init__(self, contacts: ContactDirectory) -> None:
        self._contacts = contacts
        self._cache: dict[tuple[str, str], ContactCard | None] = {}

    async def host(self, host_id: str) -> ContactCard | None:
        """The host's card, or None when it is gone."""
        key = ("host", host_id)
        if key not in self._cache:
            self._cache[key] = await self._contacts.host(host_id)
        return self._cache[key]

    async def visitor(self, application_id: str) -> ContactCard | None:
        """The visitor's card, or None when its application is gone."""
        key = ("visitor", application_id)
        if key not in self._cache:
            self._cache[key] = await self._contacts.visitor(application_id)
        return self._cache[key]

    async def recipient(self, entry: LedgerEntry) -> ContactCard | None:
        """The card of whoever `entry` writes to."""
        if entry.recipient_kind == "host":
            return await self.host(entry.recipient_id)
        return await self.visitor(entry.recipient_id)


@dataclass(frozen=True, kw_only=True)
class MailComposer:
    """Turns a ledger entry into the mail for its recipient, with contacts read at send time.

    The ledger is read only for a digest's members; the cap and links only say what a mail tells.
    """

    contacts: ContactDirectory
    templates: Templates
    ledger: Ledger
    cap: RecipientCap
    links: Links

    def cards(self) -> ContactCards:
        """A fresh card cache for one pass."""
        return ContactCards(self.contacts)

    async def compose(self, entry: LedgerEntry, cards: ContactCards | None = None) -> OutgoingMail | str:
        """The mail for `entry` in its recipient's language, or why there is none (the recipient is gone...)."""
        cards = cards or self.cards()
        recipient = await cards.recipient(entry)
        if recipient is None:
            return f"the {entry.recipient_kind} is unknown, withdrawn or erased"
        language = choose_language(recipient.languages, self.templates.languages)
        if entry.exchange is not None:
            other_kind, other_id = other_side(entry)
            other = await (cards.host(other_id) if other_kind == "host" else cards.visitor(other_id))
            page = self.links.exchange_page(str(entry.exchange["exchange_id"]))
            rendered = self.templates.exchange_step(exchange_mail(entry, recipient, other, page), language)
        elif entry.kind is NotificationKind.DIGEST:
            view = await self._digest_view(entry, recipient, cards)
            if isinstance(view, str):
                return view
            rendered = self.templates.digest(view, language)
        else:
            proposal = await self._proposal_view(entry, recipient, cards)
            if isinstance(proposal, str):
                return proposal
            if isinstance(proposal, VisitorProposal):
                rendered = self.templates.visitor_proposal(proposal, language)
            else:
                rendered = self.templates.host_proposal(proposal, language)
        return OutgoingMail(
            message_id=entry.message_id,
            to_name=recipient.contact.name,
            to_address=recipient.contact.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            language=rendered.language,
        )

    async def _proposal_view(
        self, entry: LedgerEntry, recipient: ContactCard, cards: ContactCards
    ) -> VisitorProposal | HostProposal | str:
        if entry.kind is NotificationKind.MATCH_PROPOSAL_VISITOR:
            hosts = {str(m.host_id): await cards.host(str(m.host_id)) for m in entry.matches}
            view = visitor_proposal(entry, recipient, hosts, self.links, digest_period_s=self.cap.period_s)
            return view if view is not None else "no proposed host is left in the catalogue"
        visitor = await cards.visitor(str(entry.application_id))
        if visitor is None:
            return "the visitor is unknown, withdrawn or erased"
        return host_proposal(entry, recipient, visitor, self.links)

    async def _digest_view(self, entry: LedgerEntry, recipient: ContactCard, cards: ContactCards) -> Digest | str:
        members = await self.ledger.get_many(entry.members)
        new_hosts: list[ProposedHost] = []
        host_views: list[HostProposal] = []
        if entry.recipient_kind == "visitor":
            hosts = {str(m.host_id): await cards.host(str(m.host_id)) for member in members for m in member.matches}
            new_hosts = proposed_hosts(members, hosts, self.links)
        else:
            for member in members:
                view = await self._proposal_view(member, recipient, cards)
                if isinstance(view, HostProposal):
                    host_views.append(view)
        if not new_hosts and not host_views:
            return "no proposal of the digest is left"
        return Digest(
            contact_name=recipient.contact.name,
            recipient_kind=entry.recipient_kind,
            organisation=recipient.organisation,
            cap=self.cap.mails,
            period_start=self.cap.period_start(entry.period),
            period_end=self.cap.period_end(entry.period),
            new_hosts=tuple(new_hosts),
            matches_page=self.links.matches_page(entry.recipient_id) if entry.recipient_kind == "visitor" else None,
            host_proposals=tuple(host_views),
        )
