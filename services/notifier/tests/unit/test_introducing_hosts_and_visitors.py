"""Mail that stays welcome: a visitor gets its first list at once, later only hosts new to it, in one digest per
period; a host hears of a visitor once. The rules (cx_notifier.domain.introductions, plan_run), then the use
cases driving them on in-memory stand-ins as the matcher's runs arrive."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from cx_contracts import examples
from cx_contracts.events import MatchFound, MatchTrigger, NotificationKind

from cx_notifier.domain.cap import RecipientCap
from cx_notifier.domain.introductions import Introduction, Introductions
from cx_notifier.domain.ledger import NEW_HOSTS_WAIT, NO_HOST_PROPOSED, NO_NEW_HOST, MailStatus, plan_run

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)


def _run(application: UUID, hosts: list[UUID], trigger: MatchTrigger = "new-host") -> MatchFound:
    return examples.match_found(application_id=application, host_ids=hosts, trigger=trigger)


def _hosts(make_card, count: int, first: int = 0):
    """Hosts with names and addresses of their own (the examples repeat after a few)."""
    return [
        make_card("host", index=i, name=f"Host Cluster {i}", email=f"host-{i}@hosts.example")
        for i in range(first, first + count)
    ]


def _plan(match: MatchFound, introductions: Introductions):
    return plan_run(match, introductions, period=4, domain="cx.example", now=NOW)


# ------------------------------------------------------------------------------------------------ the rules


def test_the_first_run_with_hosts_is_the_visitors_first_list_sent_at_once_whole_and_every_host_is_told() -> None:
    application, hosts = uuid4(), [uuid4() for _ in range(3)]
    first = _run(application, hosts, "new-application")

    introductions = Introductions().recorded(first)
    visitor, *told = _plan(first, introductions)

    assert introductions.is_first_list(first)
    assert introductions.introduced_by(first) == {str(h) for h in hosts}
    assert visitor.status is MailStatus.PENDING and visitor.matches == first.matches
    assert [e.recipient_id for e in told] == [str(h) for h in hosts]
    assert {e.status for e in told} == {MailStatus.PENDING}


def test_a_later_run_names_only_the_hosts_new_to_the_visitor_deferred_to_its_digest_and_tells_only_them() -> None:
    application, hosts, newcomer = uuid4(), [uuid4() for _ in range(3)], uuid4()
    first = _run(application, hosts, "new-application")
    # The newcomer enters at rank 2 and pushes the last host out, as the matcher's new-host run lists it.
    later = _run(application, [hosts[0], newcomer, hosts[1]])

    introductions = Introductions().recorded(first).recorded(later)
    visitor, *told = _plan(later, introductions)

    assert not introductions.is_first_list(later)
    assert visitor.kind is NotificationKind.MATCH_PROPOSAL_VISITOR
    assert (visitor.status, visitor.reason) == (MailStatus.DEFERRED, NEW_HOSTS_WAIT)
    assert [m.host_id for m in visitor.matches] == [newcomer] and visitor.matches[0].rank == 2
    assert [(e.recipient_id, e.status) for e in told] == [(str(newcomer), MailStatus.PENDING)]


@pytest.mark.parametrize("trigger", ["new-host", "revised-application", "new-application"])
def test_a_later_run_that_brings_no_new_host_mails_nobody_whatever_its_trigger(trigger: MatchTrigger) -> None:
    application, hosts = uuid4(), [uuid4() for _ in range(3)]
    first = _run(application, hosts, "new-application")
    reordered = _run(application, list(reversed(hosts[1:])), trigger)

    introductions = Introductions().recorded(first)
    planned = _plan(reordered, introductions.recorded(reordered))

    assert introductions.recorded(reordered) == introductions, "nothing to record"
    assert [(e.recipient_kind, e.status, e.reason) for e in planned] == [("visitor", MailStatus.SKIPPED, NO_NEW_HOST)]


def test_a_host_that_left_the_list_and_comes_back_is_not_introduced_again() -> None:
    application, hosts, newcomer = uuid4(), [uuid4() for _ in range(2)], uuid4()
    first = _run(application, hosts, "new-application")
    pushed_out = _run(application, [hosts[0], newcomer])
    back = _run(application, [hosts[1], hosts[0]])

    introductions = Introductions().recorded(first).recorded(pushed_out).recorded(back)

    assert introductions.introduced_by(back) == frozenset()
    assert introductions.introduced_by(pushed_out) == {str(newcomer)}
    assert [e.status for e in _plan(back, introductions)] == [MailStatus.SKIPPED]


def test_a_first_run_without_hosts_mails_nothing_and_the_first_run_with_hosts_is_the_first_list() -> None:
    application, host = uuid4(), uuid4()
    empty = _run(application, [], "new-application")
    joined = _run(application, [host])

    introductions = Introductions().recorded(empty)
    (visitor,) = _plan(empty, introductions)
    introductions = introductions.recorded(joined)

    assert (visitor.status, visitor.reason) == (MailStatus.SKIPPED, NO_HOST_PROPOSED)
    assert introductions.is_first_list(joined)
    assert [e.status for e in _plan(joined, introductions)] == [MailStatus.PENDING, MailStatus.PENDING]


def test_recording_a_run_again_changes_nothing_and_plans_the_same_entries() -> None:
    application, hosts = uuid4(), [uuid4() for _ in range(3)]
    first, later = _run(application, hosts[:2], "new-application"), _run(application, hosts)
    once = Introductions().recorded(first).recorded(later)

    again = once.recorded(later).recorded(first)

    assert again == once
    assert _plan(later, again) == _plan(later, once)
    assert _plan(first, again) == _plan(first, once)


def test_of_two_runs_recorded_at_the_same_moment_the_first_recorded_introduces_each_host_once() -> None:
    application, shared, own = uuid4(), uuid4(), uuid4()
    one, other = _run(application, [shared]), _run(application, [own, shared])
    start = Introductions()
    # Both read the empty record and add what they found new; the store keeps both additions in order.
    racing = Introductions(
        first_run=str(one.match_run_id),
        introduced=tuple(start.to_record(one)) + tuple(start.to_record(other)),
    )

    assert racing.introduced == (
        Introduction(str(shared), str(one.match_run_id)),
        Introduction(str(own), str(other.match_run_id)),
        Introduction(str(shared), str(other.match_run_id)),
    )
    assert racing.introduced_by(one) == {str(shared)}
    assert racing.introduced_by(other) == {str(own)}, "the shared host is not introduced twice"
    assert racing.is_first_list(one) and not racing.is_first_list(other)


# ------------------------------------------------------------------------------------- the use cases on them


async def test_a_visitor_matched_then_five_hosts_entering_gets_one_first_list_and_one_digest_naming_the_five(
    memory_world, make_card
) -> None:
    visitor = make_card("visitor")
    first_hosts, joining = _hosts(make_card, 10), _hosts(make_card, 20, first=10)
    world = memory_world(visitor, *first_hosts, *joining, cap=RecipientCap(20, 3600))
    listed = [h.id for h in first_hosts]
    runs = [_run(visitor.id, listed, "new-application")]
    for newcomer in joining[:5]:  # each enters at rank 3 and pushes the last one out
        listed = [*listed[:2], newcomer.id, *listed[2:9]]
        runs.append(_run(visitor.id, listed))
    runs.append(_run(visitor.id, list(reversed(listed)), "revised-application"))  # a reshuffle, nothing new

    for run in runs:
        await world.notifier.on_match_found(run)
        world.advance(5)
    for run in runs:  # every record delivered again
        await world.notifier.on_match_found(run)
    before = await world.notifier.send_digests()
    world.advance(3600)
    digests = await world.notifier.send_digests()

    first_list, digest = world.relay.to(visitor)
    assert before == 0 and digests == 1, "the digest waits for the period's end"
    assert first_list.subject == f"10 hosts proposed for {visitor.organisation.name}"
    assert digest.subject == f"5 new hosts for {visitor.organisation.name}"
    named = [h for h in first_hosts + joining if f"* {h.organisation.name}\n" in digest.text]
    assert named == joining[:5], "exactly the five hosts that entered"
    assert all(len(world.relay.to(h)) == 1 for h in first_hosts + joining[:5]), "each host told once"
    assert all(world.relay.to(h) == [] for h in joining[5:])
    assert len(world.relay.sent) == 1 + 10 + 5 + 1
    kinds = [e.kind for e in world.ledger.events if e.recipient_kind == "visitor"]
    assert kinds == [NotificationKind.MATCH_PROPOSAL_VISITOR, NotificationKind.DIGEST]


async def test_hosts_new_to_a_visitor_in_a_later_period_wait_for_that_periods_digest(memory_world, make_card) -> None:
    visitor, hosts = make_card("visitor"), _hosts(make_card, 3)
    world = memory_world(visitor, *hosts, cap=RecipientCap(20, 3600))

    await world.notifier.on_match_found(_run(visitor.id, [hosts[0].id], "new-application"))
    world.advance(3600)
    await world.notifier.on_match_found(_run(visitor.id, [hosts[0].id, hosts[1].id]))
    world.advance(3600)
    await world.notifier.send_digests()
    await world.notifier.on_match_found(_run(visitor.id, [hosts[2].id, hosts[0].id, hosts[1].id]))
    world.advance(3600)
    await world.notifier.send_digests()

    subjects = [m.subject for m in world.relay.to(visitor)]
    texts = [m.text for m in world.relay.to(visitor)]
    assert subjects[1:] == [f"1 new host for {visitor.organisation.name}"] * 2, "one digest per period"
    assert hosts[1].organisation.name in texts[1] and hosts[2].organisation.name not in texts[1]
    assert hosts[2].organisation.name in texts[2] and hosts[1].organisation.name not in texts[2]
