"""The steps of an exchange on in-memory stand-ins: requested -> accepted -> agreed -> completed, and each rule
that refuses a step (dates, formats, capacity, the visitor's one exchange, who may do what, when)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cx_contracts.events import (
    ExchangeAccepted,
    ExchangeAgreed,
    ExchangeCompleted,
    ExchangeRequested,
    ExchangeWithdrawn,
)
from cx_contracts.examples import application_payload
from cx_contracts.exchange import ExchangeState
from cx_kit.ownership import Caller, Role

from cx_exchanges.domain.exchange import Exchange, Refusal

pytestmark = pytest.mark.unit

VISITOR, HOST = "sofia-foodtech-cluster", "nordwest-agrifood"  # the example organisations' ids
TODAY = date(2027, 1, 11)
GOALS = "We want to learn how a cluster set up a farm data platform and how it convinced farmers to share data."
AGENDA = "Day one: the living lab. Day two: the data platform. Days three to five: pilots with member companies."
LEARNT = "We learnt how the living lab brokers pilots between start-ups and farms, and how it keeps data safe."
FOLLOW_UP = "We start a data-sharing pilot with three dairy farms in spring and invite the host to Sofia in June."


async def requested(desk: Any, **changes: Any) -> Exchange:
    return await desk.exchanges.request(member(VISITOR), desk.request_body(**changes), None)


async def agreed(desk: Any) -> Exchange:
    exchange = await requested(desk)
    exchange = await desk.exchanges.accept(member(HOST), exchange.id, 1, AGENDA, None)
    exchange = await desk.exchanges.confirm(VISITOR_MANAGER, exchange.id, exchange.revision, None)
    return await desk.exchanges.confirm(HOST_MANAGER, exchange.id, exchange.revision, None)


def member(organisation: str) -> Caller:
    return Caller(
        subject=f"dev:{organisation}", organisation=organisation, email=f"a@{organisation}.example", email_verified=True
    )


def manager(partnership: str) -> Caller:
    return Caller(subject="dev:office", organisation="office", role=Role.MANAGER, partnership=partnership)


VISITOR_MANAGER, HOST_MANAGER = manager("escp-4x-06"), manager("escp-4x-01")


def refused(kind: str, *fields: str) -> Any:
    """A check that a Refusal of `kind` naming `fields` was raised."""

    class Check:
        def __enter__(self) -> None:
            return None

        def __exit__(self, kind_: Any, error: Any, trace: Any) -> bool:
            assert isinstance(error, Refusal), f"expected a refusal, got {error!r}"
            assert error.kind == kind, error
            assert {f for f, _ in error.fields} >= set(fields), error.fields
            return True

    return Check()


async def test_the_whole_path_requested_accepted_agreed_completed_with_one_event_a_step(desk: Any) -> None:
    exchange = await agreed(desk)
    assert exchange.state is ExchangeState.AGREED and exchange.revision == 4
    assert exchange.grant is not None and exchange.grant.amount_cents == 270_000, "DE, 5 days, 1650 km: the whole sum"
    desk.clock.day = date(2027, 3, 20)
    exchange = await desk.exchanges.report(member(VISITOR), exchange.id, 4, LEARNT, FOLLOW_UP, None)
    assert exchange.state is ExchangeState.COMPLETED and exchange.report is not None
    assert [type(e) for e in desk.store.events] == [
        ExchangeRequested,
        ExchangeAccepted,
        ExchangeAgreed,
        ExchangeCompleted,
    ]
    assert [e.revision for e in desk.store.events] == [1, 2, 4, 5], "one confirmation alone is a revision, no event"
    assert all(e.host_id == desk.host.id and e.application_id == desk.application.id for e in desk.store.events)


async def test_contacts_are_shown_only_once_the_host_accepted(desk: Any) -> None:
    exchange = await requested(desk)
    readable, acting = await desk.exchanges.readable(member(HOST), exchange.id)
    before = await desk.exchanges.view(readable, acting)
    assert before.contacts is None
    assert "h.brueggemann" not in before.model_dump_json() and "d.ivanova" not in before.model_dump_json()
    exchange = await desk.exchanges.accept(member(HOST), exchange.id, 1, AGENDA, None)
    after = await desk.exchanges.view(exchange, (await desk.exchanges.readable(member(VISITOR), exchange.id))[1])
    assert after.contacts is not None and after.contacts["host"].email == "h.brueggemann@nordwest-agrifood.example"
    assert after.contacts["visitor"].email == "d.ivanova@sofia-foodtech.example"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"dates": {"start": "2027-03-15", "end": "2027-03-16"}}, ["dates"]),  # 2 working days
        ({"dates": {"start": "2027-03-15", "end": "2027-04-02"}}, ["dates"]),  # 15 days, the host takes 10
        ({"dates": {"start": "2027-07-05", "end": "2027-07-09"}}, ["dates"]),  # outside the host's availability
        ({"dates": {"start": "2027-03-01", "end": "2027-03-05"}}, ["dates"]),  # before the visitor's window
        ({"format": "virtual"}, ["format"]),  # the visitor accepts physical only
        ({"participants": 4}, ["participants"]),  # the host takes 3 at once
    ],
)
async def test_a_request_outside_both_sides_answers_is_refused_naming_the_field(
    desk: Any, changes: dict[str, Any], fields: list[str]
) -> None:
    with refused("invalid", *fields):
        await requested(desk, **changes)
    assert desk.store.events == []


async def test_a_request_starting_today_or_before_is_refused(desk: Any) -> None:
    desk.clock.day = date(2027, 3, 15)
    with refused("invalid", "dates.start"):
        await requested(desk)


async def test_only_a_proposed_host_may_be_asked_and_only_from_ones_own_application(desk: Any) -> None:
    desk.proposals.hosts_of[str(desk.application.id)] = []
    with refused("invalid", "host_id"):
        await requested(desk)
    with refused("missing"):
        await desk.exchanges.request(member("someone-else"), desk.request_body(), None)
    with refused("forbidden"):
        await desk.exchanges.request(VISITOR_MANAGER, desk.request_body(), None)


async def test_a_second_open_request_to_the_same_host_is_refused(desk: Any) -> None:
    await requested(desk)
    with refused("conflict"):
        await requested(desk)


async def test_another_organisation_does_not_find_the_exchange_and_a_manager_elsewhere_neither(desk: Any) -> None:
    exchange = await requested(desk)
    for caller in (member("someone-else"), manager("escp-4x-13")):
        with refused("missing"):
            await desk.exchanges.readable(caller, exchange.id)
    for caller in (member(VISITOR), member(HOST), VISITOR_MANAGER, HOST_MANAGER):
        await desk.exchanges.readable(caller, exchange.id)


async def test_only_the_host_accepts_or_declines_and_a_manager_takes_no_partys_step(desk: Any) -> None:
    exchange = await requested(desk)
    for caller in (member(VISITOR), VISITOR_MANAGER, HOST_MANAGER):
        with refused("forbidden"):
            await desk.exchanges.accept(caller, exchange.id, 1, AGENDA, None)
        with refused("forbidden"):
            await desk.exchanges.decline(caller, exchange.id, 1, None, None)
    with refused("forbidden"):
        await desk.exchanges.withdraw(HOST_MANAGER, exchange.id, 1, None)
    declined = await desk.exchanges.decline(member(HOST), exchange.id, 1, "We are full in March.", None)
    assert declined.state is ExchangeState.DECLINED
    with refused("conflict"):
        await desk.exchanges.accept(member(HOST), exchange.id, 2, AGENDA, None)


async def test_managers_confirm_only_their_own_side_and_organisations_confirm_nothing(desk: Any) -> None:
    exchange = await requested(desk)
    exchange = await desk.exchanges.accept(member(HOST), exchange.id, 1, AGENDA, None)
    for caller in (member(VISITOR), member(HOST), manager("escp-4x-13")):
        with pytest.raises(Refusal):
            await desk.exchanges.confirm(caller, exchange.id, exchange.revision, None)
    exchange = await desk.exchanges.confirm(HOST_MANAGER, exchange.id, exchange.revision, None)
    assert exchange.state is ExchangeState.ACCEPTED and exchange.unconfirmed() == ["visitor"]
    with refused("conflict"):
        await desk.exchanges.confirm(HOST_MANAGER, exchange.id, exchange.revision, None)
    exchange = await desk.exchanges.confirm(VISITOR_MANAGER, exchange.id, exchange.revision, None)
    assert exchange.state is ExchangeState.AGREED


async def test_a_revised_agreement_is_confirmed_afresh(desk: Any) -> None:
    exchange = await requested(desk)
    exchange = await desk.exchanges.accept(member(HOST), exchange.id, 1, AGENDA, None)
    exchange = await desk.exchanges.confirm(HOST_MANAGER, exchange.id, exchange.revision, None)
    exchange = await desk.exchanges.revise_agreement(
        member(VISITOR), exchange.id, exchange.revision, GOALS + " Also.", AGENDA, None
    )
    assert exchange.unconfirmed() == ["visitor", "host"]


async def test_a_stale_revision_changes_nothing(desk: Any) -> None:
    from cx_exchanges.handlers import StaleExchange

    exchange = await requested(desk)
    with pytest.raises(StaleExchange):
        await desk.exchanges.accept(member(HOST), exchange.id, 7, AGENDA, None)
    assert desk.store.exchanges[exchange.id].state is ExchangeState.REQUESTED


async def test_a_host_takes_several_visitors_at_once_within_its_capacity_and_no_more(desk: Any) -> None:
    first = await requested(desk)  # 2 participants of the host's 3 places
    second_application = desk.another_application("lviv-medtech")
    second = await desk.exchanges.request(
        member("lviv-medtech"), desk.request_body(second_application, participants=1), None
    )
    third_application = desk.another_application("maribor-auto")
    third = await desk.exchanges.request(
        member("maribor-auto"), desk.request_body(third_application, participants=1), None
    )
    await desk.exchanges.accept(member(HOST), first.id, 1, AGENDA, None)
    await desk.exchanges.accept(member(HOST), second.id, 1, AGENDA, None)
    with refused("conflict"):
        await desk.exchanges.accept(member(HOST), third.id, 1, AGENDA, None)
    assert desk.store.exchanges[third.id].state is ExchangeState.REQUESTED
    await desk.exchanges.withdraw(member("lviv-medtech"), second.id, 2, None)
    accepted = await desk.exchanges.accept(member(HOST), third.id, 1, AGENDA, None)
    assert accepted.state is ExchangeState.ACCEPTED, "a withdrawal frees its places"


async def test_a_visitor_visits_once_but_a_virtual_exchange_does_not_count(desk: Any) -> None:
    other_payload = copy.deepcopy(application_payload(0))
    other_host = desk.records.add(
        desk.facts(
            "host",
            {**other_payload, "partnership": "escp-4x-02"} | {"answers": desk.host.answers.model_dump(mode="json")},
            "piedmont",
        ),
        {"name": "Giulia Ferraris", "email": "giulia@piedmont.example"},
    )
    desk.records.change(
        str(other_host.id), organisation=desk.host.organisation.model_copy(update={"country": "IT", "city": "Torino"})
    )
    desk.proposals.hosts_of[str(desk.application.id)] = [str(desk.host.id), str(other_host.id)]
    first = await requested(desk)
    second = await requested(desk, host_id=str(other_host.id))
    await desk.exchanges.accept(member(HOST), first.id, 1, AGENDA, None)
    with refused("conflict"):
        await desk.exchanges.accept(member("piedmont"), second.id, 1, AGENDA, None)
    assert desk.store.exchanges[second.id].state is ExchangeState.REQUESTED

    both = desk.another_application(VISITOR, formats=["physical", "virtual"])
    virtual = await desk.exchanges.request(
        member(VISITOR), desk.request_body(both, format="virtual", participants=1), None
    )
    virtual = await desk.exchanges.accept(member(HOST), virtual.id, 1, AGENDA, None)
    assert virtual.state is ExchangeState.ACCEPTED, "a virtual exchange beside the physical one"


async def test_withdrawal_is_open_to_either_side_until_the_start(desk: Any) -> None:
    exchange = await agreed(desk)
    desk.clock.day = date(2027, 3, 15)
    with refused("conflict"):
        await desk.exchanges.withdraw(member(VISITOR), exchange.id, exchange.revision, None)
    desk.clock.day = TODAY
    withdrawn = await desk.exchanges.withdraw(member(HOST), exchange.id, exchange.revision, None)
    assert withdrawn.withdrawn_by == "host" and withdrawn.previous_state is ExchangeState.AGREED
    event = desk.store.events[-1]
    assert isinstance(event, ExchangeWithdrawn) and event.previous_state is ExchangeState.AGREED
    assert (await desk.hosts.read(str(desk.host.id)))[1] == [], "its places are free again"
    assert (await desk.visitors.read(VISITOR))[1] == []


async def test_the_report_is_the_visitors_and_comes_after_the_last_day(desk: Any) -> None:
    exchange = await agreed(desk)
    desk.clock.day = date(2027, 3, 19)
    with refused("conflict"):
        await desk.exchanges.report(member(VISITOR), exchange.id, exchange.revision, LEARNT, FOLLOW_UP, None)
    desk.clock.day = date(2027, 3, 22)
    with refused("forbidden"):
        await desk.exchanges.report(member(HOST), exchange.id, exchange.revision, LEARNT, FOLLOW_UP, None)


async def test_the_grant_is_fixed_at_the_agreement_from_the_organisations_as_they_then_stand(desk: Any) -> None:
    desk.distances.km = 150.0
    exchange = await agreed(desk)
    assert exchange.grant is not None and exchange.grant.amount_cents == 135_000 and exchange.grant.halved


async def test_next_steps_say_who_must_do_what(desk: Any) -> None:
    exchange = await requested(desk)
    view = await desk.exchanges.view(exchange, (await desk.exchanges.readable(member(HOST), exchange.id))[1])
    assert [(s.who, s.action, s.yours) for s in view.next_steps] == [
        ("host", "accept-or-decline", True),
        ("visitor", "wait", False),
    ]
    assert view.grant_estimate is not None and view.grant_estimate.amount_cents == 270_000


async def test_totals_count_each_state_and_the_granted_amounts_of_a_partnership(desk: Any) -> None:
    await agreed(desk)
    totals = await desk.exchanges.totals(HOST_MANAGER)
    assert totals.by_state[ExchangeState.AGREED] == 1 and totals.total == 1 and totals.granted_cents == 270_000
    assert (await desk.exchanges.totals(manager("escp-4x-13"))).total == 0
