"""Composition root of the notifier service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from cx_kit.outbox import BrokerPublisher
from cx_kit.periodic import PeriodicTask
from cx_kit.runtime import ServiceParts

from cx_notifier import __version__
from cx_notifier.adapters.contacts import HttpContactDirectory
from cx_notifier.adapters.ledger import (
    CAP_COLLECTION,
    DONE_COLLECTION,
    INTRODUCTIONS_COLLECTION,
    MAILS_COLLECTION,
    MailLedger,
)
from cx_notifier.adapters.metrics import NotifierMetrics
from cx_notifier.adapters.outbox import LedgerOutboxRelay
from cx_notifier.adapters.smtp import SmtpRelay
from cx_notifier.adapters.templates import MailTemplates
from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.proposals import Links
from cx_notifier.entrypoints.exchange_events import register_exchange_events
from cx_notifier.entrypoints.http import status_router
from cx_notifier.entrypoints.match_found import register_match_found
from cx_notifier.handlers.composing import MailComposer
from cx_notifier.handlers.mails import Notifier
from cx_notifier.settings import Settings

TITLE = "ClusterXchange notifier"
DESCRIPTION = (
    "Mails both parties of every match run, introducing each host and visitor to each other once: a visitor "
    "gets its first list at once and later hosts in one digest per period. Mails each step of an exchange to the "
    "sides it concerns, once per (exchange, revision, recipient). At most one mail per ledger entry, from a ledger "
    "in MongoDB; publishes NotificationSent for every mail sent. Its only public route is the ledger's counts."
)


@dataclass(frozen=True)
class NotifierParts:
    """What the composition root built, for the HTTP app and its background workers."""

    service: ServiceParts
    ledger: MailLedger
    relay: LedgerOutboxRelay
    contacts: HttpContactDirectory
    notifier: Notifier


def build(settings: Settings) -> NotifierParts:
    """Wire the real adapters from `settings` (nothing connects until the app starts)."""
    parts = ServiceParts(settings)
    ledger = MailLedger(
        parts.database[MAILS_COLLECTION],
        parts.database[DONE_COLLECTION],
        parts.database[CAP_COLLECTION],
        parts.database[INTRODUCTIONS_COLLECTION],
        topic_namespace=settings.topic_namespace,
    )
    relay = LedgerOutboxRelay(
        ledger.collection,
        BrokerPublisher(parts.broker),
        scan_interval_s=settings.outbox_scan_interval_s,
        poll_interval_s=settings.outbox_poll_interval_s,
        lease_s=settings.outbox_lease_s,
    )
    contacts = HttpContactDirectory(
        catalogue_url=settings.catalogue_url,
        applications_url=settings.applications_url,
        token=settings.internal_token,
        timeout_s=settings.contact_timeout_s,
    )
    mail_relay = SmtpRelay(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_use_tls,
        timeout_s=settings.smtp_timeout_s,
        local_hostname=settings.mail_domain,
    )
    cap = RecipientCap(settings.mails_per_recipient, settings.digest_period_s)
    composer = MailComposer(
        contacts=contacts, templates=MailTemplates(), ledger=ledger, cap=cap, links=Links(settings.public_base_url)
    )
    notifier = Notifier(
        ledger=ledger,
        composer=composer,
        relay=mail_relay,
        outbox=relay,
        metrics=NotifierMetrics(parts.registry),
        cap=cap,
        mail_domain=settings.mail_domain,
        send_lease_s=settings.send_lease_s,
        resume_after_s=settings.resume_after_s,
    )
    register_match_found(parts.broker, settings, notifier)
    register_exchange_events(parts.broker, settings, notifier)
    return NotifierParts(service=parts, ledger=ledger, relay=relay, contacts=contacts, notifier=notifier)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the notifier service: owns the sent-mail ledger."""
    settings = settings or Settings()
    built = build(settings)
    app = built.service.http_app(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        routers=[status_router(built.ledger, built.relay, cache_s=settings.status_cache_s)],
        workers=[
            built.relay,
            PeriodicTask("resume-pending-mails", settings.resume_interval_s, built.notifier.resume_pending),
            PeriodicTask("send-digests", settings.digest_interval_s, built.notifier.send_digests),
            PeriodicTask("archive-finished-mails", settings.archive_interval_s, built.ledger.archive_finished),
            PeriodicTask(
                "prune-ledger",
                settings.prune_interval_s,
                lambda: built.notifier.prune(
                    timedelta(days=settings.ledger_retention_days),
                    timedelta(days=settings.introductions_retention_days),
                ),
            ),
            built.contacts,  # its HTTP connection pool closes with the app
        ],
        on_startup=[built.ledger.ensure_indexes],
    )
    app.state.parts = built
    return app
