"""Re-matching stays welcome, on the real broker, store and Mailpit: a visitor matched, then 20 hosts joining the
catalogue within a minute, 5 of them entering its list, gets one first mail at once and, when the period ends,
one digest naming those 5; no host hears about the visitor twice."""

from __future__ import annotations

import pytest

from cx_contracts import examples
from cx_contracts.codec import parse_event
from cx_contracts.events import MatchFound, NotificationKind
from cx_contracts.scalars import utc_now
from cx_kit.testing import read_topic, wait_until

from cx_notifier.domain.cap import RecipientCap

pytestmark = pytest.mark.integration

PERIOD_S = 12.0
TOP_N = 10  # the matcher's list length


async def test_a_visitor_matched_then_five_of_twenty_joining_hosts_entering_its_list_gets_one_first_mail_and_one_digest_naming_the_five(  # noqa: E501
    world, check_html
):
    periods = RecipientCap(1000, PERIOD_S)
    visitor = world.organisation("visitor", name=f"Visiting Cluster {world.token}")
    listed = [world.organisation("host", index=i, name=f"Listed Host {i} {world.token}") for i in range(TOP_N)]
    joining = [world.organisation("host", index=i, name=f"Joining Host {i} {world.token}") for i in range(20)]
    entering = [joining[i] for i in (2, 5, 11, 16, 19)]
    first = examples.match_found(application_id=visitor.id, host_ids=[h.id for h in listed])

    # The new-host runs the matcher publishes as the hosts join: only where a host enters the list, each with
    # the whole list again (the entering host in place, the last one pushed out); two that join together
    # enter in one run. The other 15 enter no list of this visitor, so no run names them.
    order = [h.id for h in listed]
    later: list[MatchFound] = []
    for newcomers, position in (([entering[0]], 0), ([entering[1], entering[2]], 4), ([entering[3]], 9)):
        order = [*order[:position], *(h.id for h in newcomers), *order[position:]][:TOP_N]
        later.append(examples.match_found(application_id=visitor.id, host_ids=order, trigger="new-host"))
    order = [*order[:2], entering[4].id, *order[2:]][:TOP_N]
    later.append(examples.match_found(application_id=visitor.id, host_ids=order, trigger="new-host"))
    reshuffled = examples.match_found(application_id=visitor.id, host_ids=order[::-1], trigger="revised-application")

    async with world.running(digest_period_s=PERIOD_S, digest_interval_s=0.5):
        await world.publish(first)
        await world.wait_for_mails(1 + TOP_N)
        started = periods.period_of(utc_now())

        async def fresh_period() -> bool:
            # The later runs all fall into one period, so they make one digest.
            return periods.period_of(utc_now()) > started

        await wait_until(fresh_period, timeout=PERIOD_S + 2, message="the start of a fresh period")
        period = periods.period_of(utc_now())
        await world.publish(*later, later[1], reshuffled)  # one record delivered twice
        after_runs = await world.wait_for_mails(1 + TOP_N + len(entering))
        visitor_mails_in_period = [m for m in after_runs if world.addresses_of(m) == [visitor.contact.email]]

        async def digest_sent():
            entries = {e["_id"]: e for e in await world.entries()}
            digest = entries.get(f"digest/{visitor.id}/{period}")
            done = digest is not None and digest["status"] == "sent"
            return done and all(entries[m]["status"] == "digested" for m in digest["members"]) and entries

        entries = await wait_until(digest_sent, timeout=PERIOD_S + 15, message="the visitor's digest sent")
        mails = await world.wait_for_mails(1 + TOP_N + len(entering) + 1)
        events = await read_topic(
            world.infrastructure.kafka_bootstrap,
            world.notification_sent_topic,
            until=lambda records: len(records) >= len(mails),
        )

    assert len(visitor_mails_in_period) == 1, "the runs after the first list mailed the visitor nothing at once"
    visitor_mails = sorted(
        (m for m in mails if world.addresses_of(m) == [visitor.contact.email]), key=lambda m: m["Created"]
    )
    assert [m["Subject"] for m in visitor_mails] == [
        f"{TOP_N} hosts proposed for {visitor.organisation.name}",
        f"5 new hosts for {visitor.organisation.name}",
    ]
    digest_body = await world.mailpit.message(visitor_mails[1]["ID"])
    lines = {line.strip() for line in digest_body["Text"].splitlines()}
    named = [h for h in listed + joining if f"* {h.organisation.name}" in lines]
    assert sorted(named, key=str) == sorted(entering, key=str), "the digest names exactly the five that entered"
    assert (
        f"Your current list, always up to date: https://exchange.example/applications/{visitor.id}"
        in (digest_body["Text"])
    )
    assert check_html(digest_body["HTML"]) == []

    assert world.received(mails, listed + joining) == {h.id: 1 for h in listed + entering}, (
        "each host told about the visitor once; the hosts that entered no list told nothing"
    )
    assert len(mails) == 1 + TOP_N + len(entering) + 1

    digest = entries[f"digest/{visitor.id}/{period}"]
    assert digest["sent_at"] >= periods.period_end(period), "the digest waits for the period to end"
    visitor_entries = {e["match_run_id"]: e for e in entries.values() if e["_id"].endswith(f"/{visitor.id}")}
    assert [visitor_entries[str(run.match_run_id)]["status"] for run in later] == ["digested"] * len(later)
    reshuffle_entry = visitor_entries[str(reshuffled.match_run_id)]
    assert (reshuffle_entry["status"], reshuffle_entry["reason"]) == ("skipped", "no host new to the visitor")
    assert sorted(digest["members"]) == sorted(f"{run.match_run_id}/{visitor.id}" for run in later)

    sent = [parse_event(r.topic, r.value, r.headers, key=r.key) for r in events]
    assert len({e.notification_id for e in sent}) == len(mails), "a NotificationSent for every mail"
    assert sorted(e.kind for e in sent if e.recipient_kind == "visitor") == sorted(
        [NotificationKind.MATCH_PROPOSAL_VISITOR, NotificationKind.DIGEST]
    )
