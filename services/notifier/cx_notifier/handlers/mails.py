"""The notifier's use cases: plan a match run's mails once, send each once, resume what a crash left, digest.

The protocol for every mail (see docs/notifier.md):

1. plan: the run's hosts that are new to its visitor are recorded (the introductions), then the run's
   entries are written to the ledger before anything is sent, so a mail once planned is never forgotten:
   pending, or deferred to the recipient's digest (a visitor's hosts after its first list; a recipient
   over its cap);
2. compose: contact cards are read from the owning services; an organisation that is gone gets no mail
   (the entry is skipped);
3. claim: a guarded update takes the entry for `send_lease_s` and counts the attempt; whoever fails to
   claim leaves the entry to its holder (or, once the claim runs out, to the resume sweep);
4. send over SMTP with a deterministic Message-ID;
5. mark sent and queue NotificationSent in the same update.

A crash between the relay's 250 in step 4 and step 5 is the only way a mail goes out twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from tenacity import AsyncRetrying, RetryCallState, stop_before_delay, wait_exponential

from cx_contracts.events import ExchangeEvent, MatchFound
from cx_contracts.scalars import utc_now

from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.exchanges import plan_step
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.ledger import (
    FINAL_STATUSES,
    DigestKey,
    LedgerEntry,
    MailStatus,
    digest_groups,
    members_status,
    notification_sent,
    plan_digest,
    plan_run,
)
from cx_notifier.handlers.composing import ContactCards, MailComposer
from cx_notifier.handlers.interfaces import (
    DeliveryError,
    Ledger,
    MailMetrics,
    MailRelay,
    NotificationOutbox,
    RecipientRefused,
)

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
        ledger: Ledger,
        composer: MailComposer,
        relay: MailRelay,
        outbox: NotificationOutbox,
        metrics: MailMetrics,
        cap: RecipientCap,
        mail_domain: str,
        send_lease_s: float = 30.0,
        resume_after_s: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._ledger = ledger
        self._composer = composer
        self._relay = relay
        self._outbox = outbox
        self._metrics = metrics
        self._cap = cap
        self._domain = mail_domain
        self._lease = timedelta(seconds=send_lease_s)
        self._resume_after = timedelta(seconds=resume_after_s)
        self._clock = clock
        # Names this process in the claims it takes, so a ledger entry shows who holds it.
        self.instance = uuid.uuid4().hex[:12]

    # --------------------------------------------------------------------------------------- use cases

    async def on_match_found(self, match: MatchFound, traceparent: str | None = None) -> None:
        """Plan the run's mails (once), then send each one still pending; raises if one must be retried.

        `traceparent` is the record's trace context: each mail's NotificationSent continues that trace.
        """
        entries = await self._plan(match, traceparent)
        cards = self._composer.cards()
        for entry in entries:
            if entry.status is MailStatus.PENDING:
                await self._deliver(entry, cards, f"{self.instance}:consumer")

    async def on_exchange_step(self, step: ExchangeEvent, traceparent: str | None = None) -> None:
        """Plan the step's mails (once per exchange, revision and side; never capped), then send each pending one."""
        now = self._clock()
        planned = plan_step(
            step, period=self._cap.period_of(now), domain=self._domain, now=now, traceparent=traceparent
        )
        cards = self._composer.cards()
        for entry in planned:
            if not await self._ledger.plan(entry):
                entry = await self._ledger.get(entry.id) or entry  # an earlier delivery planned it: its state stands
            if entry.status is MailStatus.PENDING:
                await self._deliver(entry, cards, f"{self.instance}:exchanges")

    async def resume_pending(self) -> int:
        """Send pending entries nobody holds that are older than `resume_after_s`; returns how many were tried.

        Their record was committed without them being sent (dead-lettered after its retries) or their
        sender died holding them; a record still to be redelivered is left to its consumer by the age limit,
        and if both reach an entry the claim lets only one send it.
        """
        now = self._clock()
        entries = await self._ledger.resumable(now=now, planned_before=now - self._resume_after, limit=SWEEP_BATCH)
        cards = self._composer.cards()
        for entry in entries:
            await self._deliver(entry, cards, f"{self.instance}:sweep")
        if entries:
            logger.info("resumed pending mails", extra={"count": len(entries)})
        return len(entries)

    async def send_digests(self) -> int:
        """Send one digest per recipient and finished period that has deferred proposals; returns how many."""
        now = self._clock()
        deferred = await self._ledger.deferred_before(self._cap.period_of(now), limit=DIGEST_BATCH)
        cards = self._composer.cards()
        sent = 0
        for key, members in digest_groups(deferred).items():
            digest = await self._digest(key, members, now)
            if digest is None:
                continue  # archived and pruned meanwhile: nothing left to do for it
            late = [m.id for m in members if m.id not in digest.members]
            if late:  # deferred just as the digest was formed: they go with the next one
                await self._ledger.move_to_period(late, digest.period + 1)
            if digest.status is MailStatus.PENDING:
                await self._deliver(digest, cards, f"{self.instance}:digests")
                digest = await self._ledger.get(digest.id) or digest
            if digest.status in FINAL_STATUSES:
                await self._ledger.close_members(digest.members, digest.id, members_status(digest))
                sent += digest.status is MailStatus.SENT
        return sent

    async def prune(self, retention: timedelta, introductions_retention: timedelta) -> int:
        """Forget finished entries older than `retention` (longer than match-found is kept), and introductions
        of applications with none for `introductions_retention`; returns how many entries went."""
        now = self._clock()
        cutoff = now - retention
        return await self._ledger.prune(cutoff, self._cap.period_of(cutoff) - 1, now - introductions_retention)

    # ------------------------------------------------------------------------------------------- steps

    async def _plan(self, match: MatchFound, traceparent: str | None) -> list[LedgerEntry]:
        now = self._clock()
        period = self._cap.period_of(now)
        # Recorded before any entry: a redelivery finds the same introductions, so it plans the same entries.
        introductions = await self._ledger.introduce(match, now=now) if match.matches else Introductions()
        planned = []
        for entry in plan_run(
            match, introductions, period=period, domain=self._domain, now=now, traceparent=traceparent
        ):
            stored = await self._ledger.get(entry.id)
            if stored is not None:  # planned by an earlier delivery of this record: its decision stands
                planned.append(stored)
                continue
            if entry.status is MailStatus.PENDING:
                position = await self._ledger.cap_position(entry.recipient_id, period, entry.id)
                if not self._cap.allows(position):
                    entry = entry.deferred()
            if not await self._ledger.plan(entry):
                entry = await self._ledger.get(entry.id) or entry  # another replica planned it first
            planned.append(entry)
        return planned

    async def _digest(self, key: DigestKey, members: list[LedgerEntry], now: datetime) -> LedgerEntry | None:
        """The digest of `key` as stored: the one formed earlier, or one planned now with `members`."""
        planned = plan_digest(key, members, domain=self._domain, now=now)
        digest = await self._ledger.get(planned.id)
        if digest is None:
            await self._ledger.plan(planned)
            digest = await self._ledger.get(planned.id)
        return digest

    async def _deliver(self, entry: LedgerEntry, cards: ContactCards, claimant: str) -> None:
        composed = await self._composer.compose(entry, cards)
        if isinstance(composed, str):
            if await self._ledger.mark_finished(entry.id, MailStatus.SKIPPED, composed):
                self._metrics.finished(entry.kind.value, "skipped")
                logger.info("mail skipped", extra={"entry": entry.id, "reason": composed})
            return
        now = self._clock()
        if not await self._ledger.claim(entry.id, claimant, now=now, until=now + self._lease):
            return  # done already, or someone is sending it; a dead holder's claim runs out for the sweep
        try:
            accepted_at = await self._relay.send(composed)
        except RecipientRefused as error:
            await self._ledger.mark_finished(entry.id, MailStatus.REJECTED, str(error))
            self._metrics.finished(entry.kind.value, "rejected")
            logger.warning("mail refused by the relay", extra={"entry": entry.id, "error": str(error)})
            return
        except DeliveryError as error:
            self._metrics.delivery_failed(uncertain=error.uncertain)
            await self._ledger.release(entry.id, claimant, reason=str(error), uncertain=error.uncertain)
            raise
        accepted = time.perf_counter()
        await self._record_sent(entry, accepted_at)
        self._metrics.unconfirmed(time.perf_counter() - accepted)
        self._metrics.finished(entry.kind.value, "sent")
        self._outbox.publish_soon(entry.id)

    async def _record_sent(self, entry: LedgerEntry, accepted_at: datetime) -> None:
        event = notification_sent(entry, accepted_at)

        def still_unrecorded(state: RetryCallState) -> None:
            logger.warning("could not record a sent mail yet; retrying", extra={"entry": entry.id})

        # The mail is out; only recording it is missing. Giving up now would send it again later, so keep
        # trying (0.1 s doubling to 2 s) while the next wait still ends within the patience.
        async for attempt in AsyncRetrying(
            wait=wait_exponential(multiplier=0.1, max=2.0),
            stop=stop_before_delay(MARK_SENT_PATIENCE_S),
            before_sleep=still_unrecorded,
            reraise=True,
        ):
            with attempt:
                await self._ledger.mark_sent(entry, event)
