"""The ledger's plan of a match run, its deterministic ids, and the per-recipient cap's periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from cx_contracts import examples
from cx_contracts.events import NotificationKind

from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.language import choose_language
from cx_notifier.domain.ledger import (
    MailStatus,
    digest_groups,
    digest_id,
    members_status,
    message_id,
    notification_event_id,
    notification_id,
    plan_digest,
    plan_run,
    proposal_id,
)

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)


def test_a_run_plans_the_visitors_mail_first_then_one_per_host_in_rank_order() -> None:
    match = examples.match_found(host_ids=[uuid4() for _ in range(3)])

    entries = plan_run(match, Introductions().recorded(match), period=7, domain="cx.example", now=NOW)

    assert [e.kind for e in entries] == [NotificationKind.MATCH_PROPOSAL_VISITOR] + [
        NotificationKind.MATCH_PROPOSAL_HOST
    ] * 3
    assert entries[0].recipient_id == str(match.application_id)
    assert entries[0].matches == list(match.matches), "the visitor's mail lists every proposed host"
    assert [e.recipient_id for e in entries[1:]] == [str(m.host_id) for m in match.matches]
    assert [e.matches for e in entries[1:]] == [[m] for m in match.matches], "a host sees only its own line"
    assert {e.status for e in entries} == {MailStatus.PENDING}
    assert {e.period for e in entries} == {7}


def test_ledger_ids_and_message_ids_are_the_same_on_every_replay() -> None:
    match = examples.match_found()

    first = plan_run(match, Introductions().recorded(match), period=1, domain="cx.example", now=NOW)
    again = plan_run(match, Introductions().recorded(match), period=9, domain="cx.example", now=NOW + timedelta(days=3))

    assert [e.id for e in first] == [e.id for e in again]
    assert [e.message_id for e in first] == [e.message_id for e in again]
    assert first[0].id == proposal_id(match.match_run_id, match.application_id)
    assert first[0].message_id == f"<{match.match_run_id}.{match.application_id}@cx.example>"
    assert len({e.message_id for e in first}) == len(first), "one Message-ID per recipient"
    assert notification_id(first[0].id) == notification_id(again[0].id)
    assert notification_event_id(first[0].id) != notification_id(first[0].id)


def test_a_run_without_hosts_plans_nothing_to_send() -> None:
    match = examples.match_found(host_ids=[])

    (visitor,) = plan_run(match, Introductions().recorded(match), period=1, domain="cx.example", now=NOW)

    assert visitor.status is MailStatus.SKIPPED
    assert visitor.reason == "no host proposed"


def test_a_digest_has_its_own_id_per_recipient_and_period() -> None:
    recipient = uuid4()

    assert digest_id(recipient, 5) == f"digest/{recipient}/5"
    assert digest_id(recipient, 5) != digest_id(recipient, 6)
    assert message_id(digest_id(recipient, 5), "cx.example") == f"<digest.{recipient}.5@cx.example>"


def test_deferred_proposals_make_one_digest_per_recipient_and_period_listing_them_in_order() -> None:
    host = uuid4()
    matches = [examples.match_found(host_ids=[host]) for _ in range(3)]
    runs = [
        plan_run(m, Introductions().recorded(m), period=p, domain="cx.example", now=NOW)
        for m, p in zip(matches, (4, 4, 5), strict=True)
    ]
    deferred = [entries[1].deferred() for entries in runs]

    groups = digest_groups(deferred)
    digest = plan_digest(("host", str(host), 4), groups[("host", str(host), 4)], domain="cx.example", now=NOW)

    assert list(groups) == [("host", str(host), 4), ("host", str(host), 5)]
    assert digest.id == digest_id(host, 4) and digest.kind is NotificationKind.DIGEST
    assert digest.status is MailStatus.PENDING and digest.period == 4
    assert digest.members == [deferred[0].id, deferred[1].id]
    assert digest.message_id == f"<digest.{host}.4@cx.example>"
    assert {d.status for d in deferred} == {MailStatus.DEFERRED} and deferred[0].reason == "over the cap"


def test_the_members_of_a_sent_digest_become_digested_and_of_any_other_finished_one_skipped() -> None:
    digest = plan_digest(("visitor", str(uuid4()), 1), [], domain="cx.example", now=NOW)

    assert members_status(digest.model_copy(update={"status": MailStatus.SENT})) is MailStatus.DIGESTED
    assert members_status(digest.model_copy(update={"status": MailStatus.SKIPPED})) is MailStatus.SKIPPED
    assert members_status(digest.model_copy(update={"status": MailStatus.REJECTED})) is MailStatus.SKIPPED


@pytest.mark.parametrize(
    ("attempts", "failed", "status", "unconfirmed"),
    [
        (1, 0, MailStatus.SENT, 0),
        (3, 2, MailStatus.SENT, 0),
        (2, 0, MailStatus.SENT, 1),
        (2, 1, MailStatus.PENDING, 1),
        (0, 0, MailStatus.PENDING, 0),
    ],
)
def test_only_attempts_that_neither_failed_nor_were_recorded_as_sent_can_have_repeated_a_mail(
    attempts: int, failed: int, status: MailStatus, unconfirmed: int
) -> None:
    match = examples.match_found()
    entry = plan_run(match, Introductions().recorded(match), period=3, domain="cx.example", now=NOW)[0].model_copy(
        update={"attempts": attempts, "failed_attempts": failed, "status": status}
    )

    assert entry.unconfirmed_attempts() == unconfirmed


def test_cap_periods_are_fixed_utc_windows_so_every_replica_agrees() -> None:
    cap = RecipientCap(mails=20, period_s=86400)

    period = cap.period_of(NOW)

    assert cap.period_start(period) == datetime(2027, 3, 1, tzinfo=UTC)
    assert cap.period_end(period) == datetime(2027, 3, 2, tzinfo=UTC)
    assert cap.period_of(datetime(2027, 3, 1, 23, 59, 59, tzinfo=UTC)) == period
    assert cap.period_of(datetime(2027, 3, 2, tzinfo=UTC)) == period + 1


def test_the_cap_allows_mails_up_to_its_limit_and_no_more() -> None:
    cap = RecipientCap(mails=2, period_s=60)

    assert [cap.allows(n) for n in range(4)] == [True, True, False, False]


def test_the_language_is_the_first_the_organisation_works_in_that_has_templates_else_english() -> None:
    assert choose_language(["de", "fr", "en"], {"en", "fr"}) == "fr"
    assert choose_language(["de", "lt"], {"en"}) == "en"
    assert choose_language([], {"en", "de"}) == "en"
