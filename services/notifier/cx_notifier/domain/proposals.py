"""What each mail says: language-neutral views built from ledger and contacts, then the mail in words.

A visitor hears which hosts were proposed and why: its first list at once, hosts new to it later in one
digest per period; a host hears which visitor organisation may contact it and why, and what is over its
cap in one digest. Links all start at one public URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cx_contracts.api import ContactCard
from cx_contracts.events import HostMatch
from cx_contracts.explanation import Reason, reasons
from cx_contracts.questionnaire import OrganisationState

from cx_notifier.domain.ledger import LedgerEntry


@dataclass(frozen=True)
class Links:
    """The platform's public pages, under one base URL (the gateway)."""

    base: str

    def host_page(self, host_id: str) -> str:
        """A host's page in the public catalogue (the web pages serve it at /catalogue/hosts/{host_id})."""
        return f"{self.base.rstrip('/')}/catalogue/hosts/{host_id}"

    def matches_page(self, application_id: str) -> str:
        """An application's page, with its latest proposals (the web pages serve it at /applications/{id})."""
        return f"{self.base.rstrip('/')}/applications/{application_id}"

    def exchange_page(self, exchange_id: str) -> str:
        """An exchange's page, with its state and each side's next step (the web pages serve /exchanges/{id})."""
        return f"{self.base.rstrip('/')}/exchanges/{exchange_id}"


@dataclass(frozen=True)
class ProposedHost:
    """One host in a visitor's mail."""

    host_id: str
    rank: int
    score: float
    organisation: OrganisationState
    reasons: tuple[Reason, ...]
    page: str


@dataclass(frozen=True)
class VisitorProposal:
    """The visitor's first list: its proposed hosts, best first, and how often it hears of new ones."""

    contact_name: str
    visitor: OrganisationState
    application_id: str
    trigger: str
    hosts: tuple[ProposedHost, ...]
    matches_page: str
    digest_period_s: float


@dataclass(frozen=True)
class HostProposal:
    """A host's mail: which visitor organisation may contact it, and why the host fits (its own line)."""

    contact_name: str
    visitor: OrganisationState
    host: ProposedHost


@dataclass(frozen=True, kw_only=True)
class Digest:
    """What a recipient did not get one by one, in one mail after its period: a visitor's new hosts, best
    first, or the proposals that came to a host over its cap."""

    contact_name: str
    recipient_kind: str
    organisation: OrganisationState
    cap: int
    period_start: datetime
    period_end: datetime
    new_hosts: tuple[ProposedHost, ...] = ()
    matches_page: str | None = None
    host_proposals: tuple[HostProposal, ...] = ()

    @property
    def size(self) -> int:
        """How many proposals the digest holds."""
        return len(self.new_hosts) + len(self.host_proposals)


@dataclass(frozen=True)
class RenderedMail:
    """A mail in words: subject, plain text, HTML, and the language they are in."""

    subject: str
    text: str
    html: str
    language: str


@dataclass(frozen=True)
class OutgoingMail:
    """A rendered mail, ready for the relay. Holds personal data: lives only while it is being sent."""

    message_id: str
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    language: str


def visitor_proposal(
    entry: LedgerEntry,
    visitor: ContactCard,
    hosts: Mapping[str, ContactCard | None],
    links: Links,
    *,
    digest_period_s: float,
) -> VisitorProposal | None:
    """The visitor's mail for `entry`; hosts gone from the catalogue (no card) are left out; None if none is left."""
    proposed = sorted(proposed_hosts([entry], hosts, links), key=lambda host: host.rank)
    if not proposed:
        return None
    return VisitorProposal(
        contact_name=visitor.contact.name,
        visitor=visitor.organisation,
        application_id=str(entry.application_id),
        trigger=entry.trigger or "new-application",
        hosts=tuple(proposed),
        matches_page=links.matches_page(str(entry.application_id)),
        digest_period_s=digest_period_s,
    )


def proposed_hosts(
    entries: Iterable[LedgerEntry], hosts: Mapping[str, ContactCard | None], links: Links
) -> list[ProposedHost]:
    """The hosts the entries propose that are still in the catalogue (have a card), best fit first."""
    proposed = []
    for match in (match for entry in entries for match in entry.matches):
        card = hosts.get(str(match.host_id))
        if card is not None:
            proposed.append(_proposed_host(match, card, links))
    return sorted(proposed, key=lambda host: -host.score)


def host_proposal(entry: LedgerEntry, host: ContactCard, visitor: ContactCard, links: Links) -> HostProposal:
    """The host's mail for `entry`: the visitor organisation (never its contact person) and the host's reasons."""
    return HostProposal(
        contact_name=host.contact.name,
        visitor=visitor.organisation,
        host=_proposed_host(entry.matches[0], host, links),
    )


def _proposed_host(match: HostMatch, card: ContactCard, links: Links) -> ProposedHost:
    return ProposedHost(
        host_id=str(match.host_id),
        rank=match.rank,
        score=match.score,
        organisation=card.organisation,
        reasons=reasons(match.explanation),
        page=links.host_page(str(match.host_id)),
    )
