"""The notifier's use cases: plan a match run's mails once, send each once, resume what a crash left, digest.

The protocol for every mail (see docs/notifier.md):

1. plan: the run's entries are written to the ledger (pending, or deferred when over the recipient's cap)
   before anything is sent, so a mail once planned is never forgotten;
2. compose: contact cards are read from the owning services; an organisation that is gone gets no mail
   (the entry is skipped);
3. claim: a guarded update takes the entry for `send_lease_s` and counts the attempt; whoever fails to
   claim leaves the entry to its holder (or, once the claim runs out, to the resume sweep);
4. send over SMTP with a deterministic Message-ID;
5. mark sent and queue NotificationSent in the same update.

A crash between the relay's 250 in step 4 and step 5 is the only way a mail goes out twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from cx_contracts.api import ContactCard
from cx_contracts.events import MatchFound, NotificationKind, NotificationSent, child_traceparent
from cx_contracts.scalars import utc_now
from cx_kit.outbox import OutboxEntry, outbox_entry

from cx_notifier.adapters.contacts import ContactDirectory
from cx_notifier.adapters.ledger import MailLedger
from cx_notifier.adapters.smtp import DeliveryError, MailRelay, RecipientRefused
from cx_notifier.adapters.templates import MailTemplates, RenderedMail
from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.language import choose_language
from cx_notifier.domain.ledger import (
    FINAL_STATUSES,
    LedgerEntry,
    MailStatus,
    digest_id,
    message_id,
    notification_event_id,
    notification_id,
    plan_run,
)
from cx_notifier.domain.proposals import (
    Digest,
    HostProposal,
    Links,
    OutgoingMail,
    VisitorProposal,
    host_proposal,
    visitor_proposal,
)
from cx_notifier.metrics import NotifierMetrics

logger = logging.getLogger(__name__)

# How long the notifier keeps trying to record a mail the relay accepted, before it gives up and leaves
# the entry to the resume sweep (which would send it again): a short store outage must not repeat mails.
MARK_SENT_PATIENCE_S = 20.0
SWEEP_BATCH = 200
DIGEST_BATCH = 2000


class Notifier:
    """Sends the mails of match runs and digests, at most once per ledger entry."""

    def __init__(
        self,
        *,
        ledger: MailLedger,
        contacts: ContactDirectory,
        relay: MailRelay,
        templates: MailTemplates,
        cap: RecipientCap,
        links: Links,
        mail_domain: str,
        topic_namespace: str = "",
        send_lease_s: float = 30.0,
        resume_after_s: float = 60.0,
        metrics: NotifierMetrics | None = None,
        on_sent: Callable[[str], None] = lambda entry_id: None,
        clock: Callable[[], datetime] = utc_now,
        instance: str | None = None,
    ) -> None:
        self._ledger = ledger
        self._contacts = contacts
        self._relay = relay
        self._templates = templates
        self._cap = cap
        self._links = links
        self._domain = mail_domain
        self._namespace = topic_namespace
        self._lease = timedelta(seconds=send_lease_s)
        self._resume_after = timedelta(seconds=resume_after_s)
        self._metrics = metrics or NotifierMetrics(registry=None)
        self._on_sent = on_sent
        self._clock = clock
        self.instance = instance or uuid.uuid4().hex[:12]

    # --------------------------------------------------------------------------------------- use cases

    async def handle_match(self, match: MatchFound, traceparent: str | None = None) -> None:
        """Plan the run's mails (once), then send each one still pending; raises if one must be retried.

        `traceparent` is the record's trace context: each mail's NotificationSent continues that trace.
        """
        entries = await self._plan(match, traceparent)
        cards = _Cards(self._contacts)
        for entry in entries:
            if entry.status is MailStatus.PENDING:
                await self._deliver(entry, cards, f"{self.instance}:consumer")

    async def resume_pending(self) -> int:
        """Send pending entries nobody holds that are older than `resume_after_s`; returns how many were tried.

        Their record was committed without them being sent (dead-lettered after its retries) or their
        sender died holding them; a record still to be redelivered is left to its consumer by the age limit,
        and if both reach an entry the claim lets only one send it.
        """
        now = self._clock()
        entries = await self._ledger.resumable(now=now, planned_before=now - self._resume_after, limit=SWEEP_BATCH)
        cards = _Cards(self._contacts)
        for entry in entries:
            await self._deliver(entry, cards, f"{self.instance}:sweep")
        if entries:
            logger.info("resumed pending mails", extra={"count": len(entries)})
        return len(entries)

    async def send_digests(self) -> int:
        """Send one digest per recipient and finished period that has deferred proposals; returns how many."""
        now = self._clock()
        deferred = await self._ledger.deferred_before(self._cap.period_of(now), limit=DIGEST_BATCH)
        groups: dict[tuple[str, str, int], list[LedgerEntry]] = {}
        for entry in deferred:
            groups.setdefault((entry.recipient_kind, entry.recipient_id, entry.period), []).append(entry)
        cards = _Cards(self._contacts)
        sent = 0
        for (recipient_kind, recipient_id, period), members in groups.items():
            entry_id = digest_id(recipient_id, period)
            digest = await self._ledger.get(entry_id)
            if digest is None:
                await self._ledger.plan(LedgerEntry(
                    id=entry_id, kind=NotificationKind.DIGEST, recipient_kind=recipient_kind,  # type: ignore[arg-type]
                    recipient_id=recipient_id, period=period, status=MailStatus.PENDING,
                    message_id=message_id(entry_id, self._domain), members=[m.id for m in members], planned_at=now,
                ))
                digest = await self._ledger.get(entry_id)
                if digest is None:
                    continue  # archived and pruned meanwhile: nothing left to do for it
            late = [m.id for m in members if m.id not in digest.members]
            if late:  # deferred just as the digest was formed: they go with the next one
                await self._ledger.move_to_period(late, period + 1)
            if digest.status is MailStatus.PENDING:
                await self._deliver(digest, cards, f"{self.instance}:digests")
                digest = await self._ledger.get(entry_id) or digest
            if digest.status in FINAL_STATUSES:
                closed = MailStatus.DIGESTED if digest.status is MailStatus.SENT else MailStatus.SKIPPED
                await self._ledger.close_members(digest.members, entry_id, closed)
                sent += digest.status is MailStatus.SENT
        return sent

    async def prune(self, retention: timedelta) -> int:
        """Forget finished entries older than `retention` (longer than match-found is kept); returns how many."""
        cutoff = self._clock() - retention
        return await self._ledger.prune(cutoff, self._cap.period_of(cutoff) - 1)

    # ------------------------------------------------------------------------------------------- steps

    async def _plan(self, match: MatchFound, traceparent: str | None) -> list[LedgerEntry]:
        now = self._clock()
        period = self._cap.period_of(now)
        planned = []
        for entry in plan_run(match, period=period, domain=self._domain, now=now, traceparent=traceparent):
            stored = await self._ledger.get(entry.id)
            if stored is not None:  # planned by an earlier delivery of this record: its decision stands
                planned.append(stored)
                continue
            if entry.status is MailStatus.PENDING:
                position = await self._ledger.cap_position(entry.recipient_id, period, entry.id)
                if not self._cap.allows(position):
                    entry = entry.model_copy(update={"status": MailStatus.DEFERRED, "reason": "over the cap"})
            if not await self._ledger.plan(entry):
                entry = await self._ledger.get(entry.id) or entry  # another replica planned it first
            planned.append(entry)
        return planned

    async def _deliver(self, entry: LedgerEntry, cards: "_Cards", claimant: str) -> None:
        composed = await self.compose(entry, cards)
        if isinstance(composed, str):
            if await self._ledger.mark_finished(entry.id, MailStatus.SKIPPED, composed):
                self._metrics.mails.labels(entry.kind.value, "skipped").inc()
                logger.info("mail skipped", extra={"entry": entry.id, "reason": composed})
            return
        now = self._clock()
        if not await self._ledger.claim(entry.id, claimant, now=now, until=now + self._lease):
            return  # done already, or someone is sending it; a dead holder's claim runs out for the sweep
        try:
            accepted_at = await self._relay.send(composed)
        except RecipientRefused as error:
            await self._ledger.mark_finished(entry.id, MailStatus.REJECTED, str(error))
            self._metrics.mails.labels(entry.kind.value, "rejected").inc()
            logger.warning("mail refused by the relay", extra={"entry": entry.id, "error": str(error)})
            return
        except DeliveryError as error:
            self._metrics.delivery_failures.labels(str(error.uncertain).lower()).inc()
            await self._ledger.release(entry.id, claimant, reason=str(error), uncertain=error.uncertain)
            raise
        accepted = time.perf_counter()
        await self._record_sent(entry, accepted_at)
        self._metrics.unconfirmed_seconds.observe(time.perf_counter() - accepted)
        self._metrics.mails.labels(entry.kind.value, "sent").inc()
        self._on_sent(entry.id)

    async def _record_sent(self, entry: LedgerEntry, accepted_at: datetime) -> None:
        event = self._notification(entry, accepted_at)
        deadline = time.monotonic() + MARK_SENT_PATIENCE_S
        delay = 0.1
        while True:
            try:
                await self._ledger.mark_sent(entry.id, sent_at=accepted_at, event=event)
                return
            except Exception:
                # The mail is out; only recording it is missing. Giving up now would send it again later.
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("could not record a sent mail yet; retrying", extra={"entry": entry.id})
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    async def compose(self, entry: LedgerEntry, cards: "_Cards | None" = None) -> OutgoingMail | str:
        """The mail for `entry` in its recipient's language, or why there is none (the recipient is gone...)."""
        cards = cards or _Cards(self._contacts)
        recipient = await cards.recipient(entry)
        if recipient is None:
            return f"the {entry.recipient_kind} is unknown, withdrawn or erased"
        language = choose_language(recipient.languages, self._templates.languages)
        if entry.kind is NotificationKind.DIGEST:
            view = await self._digest_view(entry, recipient, cards)
            if isinstance(view, str):
                return view
            rendered = self._templates.digest(view, language)
        else:
            proposal = await self._proposal_view(entry, recipient, cards)
            if isinstance(proposal, str):
                return proposal
            if isinstance(proposal, VisitorProposal):
                rendered = self._templates.visitor_proposal(proposal, language)
            else:
                rendered = self._templates.host_proposal(proposal, language)
        return self._outgoing(entry, recipient, rendered)

    async def _proposal_view(
        self, entry: LedgerEntry, recipient: ContactCard, cards: "_Cards"
    ) -> VisitorProposal | HostProposal | str:
        if entry.kind is NotificationKind.MATCH_PROPOSAL_VISITOR:
            hosts = {str(m.host_id): await cards.host(str(m.host_id)) for m in entry.matches}
            view = visitor_proposal(entry, recipient, hosts, self._links)
            return view if view is not None else "no proposed host is left in the catalogue"
        visitor = await cards.visitor(str(entry.application_id))
        if visitor is None:
            return "the visitor is unknown, withdrawn or erased"
        return host_proposal(entry, recipient, visitor, self._links)

    async def _digest_view(self, entry: LedgerEntry, recipient: ContactCard, cards: "_Cards") -> Digest | str:
        visitor_views: list[VisitorProposal] = []
        host_views: list[HostProposal] = []
        for member in await self._ledger.get_many(entry.members):
            view = await self._proposal_view(member, recipient, cards)
            if isinstance(view, VisitorProposal):
                visitor_views.append(view)
            elif isinstance(view, HostProposal):
                host_views.append(view)
        if not visitor_views and not host_views:
            return "no proposal of the digest is left"
        return Digest(
            contact_name=recipient.contact.name, recipient_kind=entry.recipient_kind,
            organisation=recipient.organisation, visitor_proposals=tuple(visitor_views),
            host_proposals=tuple(host_views), cap=self._cap.mails,
            period_start=self._cap.period_start(entry.period), period_end=self._cap.period_end(entry.period),
        )

    def _outgoing(self, entry: LedgerEntry, recipient: ContactCard, rendered: RenderedMail) -> OutgoingMail:
        return OutgoingMail(
            message_id=entry.message_id, to_name=recipient.contact.name, to_address=recipient.contact.email,
            subject=rendered.subject, text=rendered.text, html=rendered.html, language=rendered.language,
        )

    def _notification(self, entry: LedgerEntry, sent_at: datetime) -> OutboxEntry:
        event = NotificationSent(
            event_id=notification_event_id(entry.id),
            notification_id=notification_id(entry.id),
            recipient_kind=entry.recipient_kind,
            recipient_id=UUID(entry.recipient_id),
            kind=entry.kind,
            match_run_id=UUID(entry.match_run_id) if entry.match_run_id else None,
            sent_at=sent_at,
        )
        # A child span of the run's trace (a new trace for a digest, which answers several runs).
        return outbox_entry(event, topic_namespace=self._namespace,
                            traceparent=child_traceparent(entry.traceparent))


class _Cards:
    """Contact cards read during one pass, each at most once (a run names its visitor in every host's mail)."""

    def __init__(self, contacts: ContactDirectory) -> None:
        self._contacts = contacts
        self._cache: dict[tuple[str, str], ContactCard | None] = {}

    async def host(self, host_id: str) -> ContactCard | None:
        key = ("host", host_id)
        if key not in self._cache:
            self._cache[key] = await self._contacts.host(host_id)
        return self._cache[key]

    async def visitor(self, application_id: str) -> ContactCard | None:
        key = ("visitor", application_id)
        if key not in self._cache:
            self._cache[key] = await self._contacts.visitor(application_id)
        return self._cache[key]

    async def recipient(self, entry: LedgerEntry) -> ContactCard | None:
        if entry.recipient_kind == "host":
            return await self.host(entry.recipient_id)
        return await self.visitor(entry.recipient_id)
