"""Exchanges on the real components: the whole path with one event a step (read from the topic), contacts never
shown before acceptance (on any response or event), the visitor's one exchange, capacity under concurrent
acceptances, withdrawal before the start, and who may read and confirm what."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import uuid4

import httpx
import pytest

from cx_contracts.codec import parse_event
from cx_contracts.topics import EXCHANGE_EVENTS
from cx_kit.service_testing import personal_data_in, topic_record_count
from cx_kit.testing import read_topic

from .conftest import AGENDA, FOLLOW_UP, GOALS, LEARNT, Party, Platform

pytestmark = pytest.mark.integration


def no_contact_of(response: httpx.Response, *parties: Party) -> None:
    """The response names no contact person of the parties: neither their name nor their address."""
    for party in parties:
        for item in party.contact.values():
            assert item.casefold() not in response.text.casefold(), f"{item} shown: {response.text[:500]}"


async def steps_of(platform: Platform, exchange_id: str, count: int) -> list[Any]:
    """The first `count` records of the exchange on the exchange topic, checking no other of it was written."""
    topic = platform.settings.topic(EXCHANGE_EVENTS)
    bootstrap = platform.infrastructure.kafka_bootstrap

    def of_this(records: list[Any]) -> list[Any]:
        return [r for r in records if r.key == exchange_id.encode()]

    records = await read_topic(bootstrap, topic, until=lambda r: len(of_this(r)) >= count, timeout=30)
    assert await topic_record_count(bootstrap, topic) >= count
    return of_this(records)


async def test_requested_accepted_agreed_completed_with_one_event_a_step_and_contacts_only_after_acceptance(
    platform: Platform,
) -> None:
    host, visitor = await platform.host(0), await platform.visitor(0)
    created = await platform.requested(visitor, host)
    exchange_id = created["exchange_id"]
    host_manager, visitor_manager = (platform.manager(p["partnership"]) for p in (host.payload, visitor.payload))

    before = [
        await platform.exchanges.get(f"/api/exchanges/{exchange_id}", headers=h)
        for h in (host.headers, visitor.headers, host_manager)
    ]
    before.append(await platform.exchanges.get("/api/exchanges", headers=host.headers))
    for response in before:
        assert response.status_code == 200, response.text
        no_contact_of(response, host, visitor)
    seen = before[0].json()
    assert seen["state"] == "requested" and seen["contacts"] is None and seen["message"].startswith("We would love")
    assert [s["action"] for s in seen["next_steps"] if s["yours"]] == ["accept-or-decline"]
    assert seen["grant_estimate"]["amount_cents"] == 270_000, "DE, 5 working days, Sofia to Oldenburg"

    accepted = await platform.step(exchange_id, "accept", host.headers, 1, {"agenda": AGENDA})
    assert accepted.status_code == 200, accepted.text
    contacts = accepted.json()["contacts"]
    assert contacts == {"visitor": visitor.contact, "host": host.contact}, "both sides see each other now"
    assert accepted.headers["etag"] == '"2"' and accepted.headers["cache-control"] == "no-store"

    first = await platform.step(exchange_id, "confirm", host_manager, 2)
    assert first.status_code == 200 and first.json()["state"] == "accepted", first.text
    agreed = await platform.step(exchange_id, "confirm", visitor_manager, 3)
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["state"] == "agreed" and agreed.json()["grant"]["amount_cents"] == 270_000

    early = await platform.step(exchange_id, "report", visitor.headers, 4, {"learnt": LEARNT, "follow_up": FOLLOW_UP})
    assert early.status_code == 409, "the report comes after the last day"
    platform.clock.day = date(2027, 4, 17)
    completed = await platform.step(
        exchange_id, "report", visitor.headers, 4, {"learnt": LEARNT, "follow_up": FOLLOW_UP}
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["state"] == "completed" and completed.json()["report"]["learnt"] == LEARNT

    records = await steps_of(platform, exchange_id, 4)
    topic = platform.settings.topic(EXCHANGE_EVENTS)
    events = [parse_event(topic, r.value, r.headers, key=r.key) for r in records]
    assert [e.event_type for e in events] == [
        "exchange-requested",
        "exchange-accepted",
        "exchange-agreed",
        "exchange-completed",
    ], "one event a step, each once"
    assert [e.revision for e in events] == [1, 2, 4, 5]
    assert all(str(e.host_id) == host.record_id and str(e.application_id) == visitor.record_id for e in events)
    assert personal_data_in(records, host.contact) == personal_data_in(records, visitor.contact) == []
    for text in (GOALS, AGENDA, LEARNT, "We would love"):
        assert not any(text.encode() in (r.value or b"") for r in records), "the sides' words stay off the topic"


async def test_a_second_accepted_exchange_of_the_same_visitor_is_refused_but_a_virtual_one_is_not(
    platform: Platform,
) -> None:
    first_host, second_host, third_host = await platform.host(0), await platform.host(0), await platform.host(0)
    visitor = await platform.visitor(0, formats=["physical", "virtual"])
    await platform.proposed(visitor, first_host, second_host, third_host)
    first = (await platform.request(visitor, first_host)).json()
    second = (await platform.request(visitor, second_host)).json()
    assert (
        await platform.step(first["exchange_id"], "accept", first_host.headers, 1, {"agenda": AGENDA})
    ).status_code == 200

    refused = await platform.step(second["exchange_id"], "accept", second_host.headers, 1, {"agenda": AGENDA})
    assert refused.status_code == 409 and "visits once" in refused.json()["detail"], refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    again = await platform.request(visitor, third_host)
    assert again.status_code == 409 and "visits once" in again.json()["detail"], "not even asked: it could not be"

    virtual = await platform.request(
        visitor, third_host, format="virtual", dates={"start": "2027-05-03", "end": "2027-05-07"}
    )
    assert virtual.status_code == 201, virtual.text
    taken = await platform.step(virtual.json()["exchange_id"], "accept", third_host.headers, 1, {"agenda": AGENDA})
    assert taken.status_code == 200, "a virtual exchange does not count as the visitor's one"
    assert taken.json()["grant_estimate"]["amount_cents"] == 0


async def test_a_request_retried_with_its_idempotency_key_gives_back_the_first_exchange_and_one_event(
    platform: Platform,
) -> None:
    host, visitor = await platform.host(0), await platform.visitor(0)
    await platform.proposed(visitor, host)
    key = f"request-{uuid4()}"
    first, *retries = await asyncio.gather(*(platform.request(visitor, host, idempotency_key=key) for _ in range(4)))
    assert [r.status_code for r in (first, *retries)] == [201] * 4, [r.text for r in retries]
    exchange_id = first.json()["exchange_id"]
    assert {r.json()["exchange_id"] for r in retries} == {exchange_id}, "concurrent retries: one exchange"

    accepted = await platform.step(exchange_id, "accept", host.headers, 1, {"agenda": AGENDA})
    assert accepted.status_code == 200, accepted.text
    later = await platform.request(visitor, host, idempotency_key=key)
    assert later.status_code == 201 and later.json() == {"exchange_id": exchange_id, "revision": 1}, "the first result"
    reused = await platform.request(visitor, host, idempotency_key=key, message="Another text, another request.")
    assert reused.status_code == 422
    assert [e["field"] for e in reused.json()["errors"]] == ["Idempotency-Key"]

    records = await steps_of(platform, exchange_id, 2)
    events = [parse_event(r.topic, r.value, r.headers, key=r.key).event_type for r in records]
    assert events == ["exchange-requested", "exchange-accepted"], "one request stored, however often it was sent"


async def test_two_concurrent_acceptances_over_the_hosts_capacity_one_wins(platform: Platform) -> None:
    host = await platform.host(0, capacity=3)
    visitors = [await platform.visitor(0, participants=2) for _ in range(2)]
    exchanges = [await platform.requested(visitor, host) for visitor in visitors]

    answers = await asyncio.gather(
        *(platform.step(e["exchange_id"], "accept", host.headers, 1, {"agenda": AGENDA}) for e in exchanges)
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    full = next(a for a in answers if a.status_code == 409)
    assert "full" in full.json()["detail"]
    states = [
        (await platform.exchanges.get(f"/api/exchanges/{e['exchange_id']}", headers=host.headers)).json()["state"]
        for e in exchanges
    ]
    assert sorted(states) == ["accepted", "requested"]


async def test_withdrawal_before_the_start_frees_the_place_and_after_the_start_is_refused(platform: Platform) -> None:
    host = await platform.host(0, capacity=2)
    first, second = await platform.visitor(0, participants=2), await platform.visitor(0, participants=2)
    one = await platform.requested(first, host)
    other = await platform.requested(second, host)
    assert (await platform.step(one["exchange_id"], "accept", host.headers, 1, {"agenda": AGENDA})).status_code == 200
    assert (await platform.step(other["exchange_id"], "accept", host.headers, 1, {"agenda": AGENDA})).status_code == 409

    withdrawn = await platform.step(one["exchange_id"], "withdraw", first.headers, 2)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_by"] == "visitor", withdrawn.text
    assert withdrawn.json()["contacts"] is None, "a withdrawn exchange shows no contact"
    accepted = await platform.step(other["exchange_id"], "accept", host.headers, 1, {"agenda": AGENDA})
    assert accepted.status_code == 200, "the withdrawal freed the places"

    platform.clock.day = date(2027, 4, 12)
    late = await platform.step(other["exchange_id"], "withdraw", host.headers, 2)
    assert late.status_code == 409 and "starts on 2027-04-12" in late.json()["detail"]
    events = await steps_of(platform, one["exchange_id"], 3)
    assert [parse_event(EXCHANGE_EVENTS, r.value).event_type for r in events][-1] == "exchange-withdrawn"


async def test_another_organisation_gets_404_and_managers_read_their_partnerships_and_confirm_only_their_side(
    platform: Platform,
) -> None:
    host, visitor = await platform.host(0), await platform.visitor(0)
    created = await platform.requested(visitor, host)
    exchange_id = created["exchange_id"]
    path = f"/api/exchanges/{exchange_id}"
    stranger = await platform.visitor(1)
    elsewhere = platform.manager("escp-4x-13")
    for headers in (stranger.headers, elsewhere):
        missing = await platform.exchanges.get(path, headers=headers)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert (await platform.step(exchange_id, "withdraw", headers, 1)).status_code == 404
        listed = await platform.exchanges.get("/api/exchanges", headers=headers)
        assert exchange_id not in listed.text
    host_manager = platform.manager(host.payload["partnership"])
    assert (await platform.exchanges.get(path, headers=host_manager)).status_code == 200
    assert exchange_id in (await platform.exchanges.get("/api/exchanges", headers=host_manager)).text
    assert (await platform.step(exchange_id, "accept", host_manager, 1, {"agenda": AGENDA})).status_code == 403
    assert (await platform.step(exchange_id, "accept", visitor.headers, 1, {"agenda": AGENDA})).status_code == 403

    assert (await platform.step(exchange_id, "accept", host.headers, 1, {"agenda": AGENDA})).status_code == 200
    assert (await platform.step(exchange_id, "confirm", host.headers, 2)).status_code == 403, "organisations do not"
    assert (await platform.step(exchange_id, "confirm", elsewhere, 2)).status_code == 404
    confirmed = await platform.step(exchange_id, "confirm", host_manager, 2)
    assert [c["side"] for c in confirmed.json()["confirmations"]] == ["host"], "its own side only"
    again = await platform.step(exchange_id, "confirm", host_manager, 3)
    assert again.status_code == 409
    totals = await platform.exchanges.get("/api/exchanges/totals", headers=host_manager)
    assert totals.status_code == 200 and totals.json()["by_state"]["accepted"] >= 1


async def test_bad_input_is_refused_naming_the_field_and_a_step_needs_the_revision_it_read(platform: Platform) -> None:
    host, visitor = await platform.host(0), await platform.visitor(0)
    await platform.proposed(visitor, host)
    for changes, field in (
        ({"dates": {"start": "2027-04-12", "end": "2027-04-13"}}, "dates"),
        ({"dates": {"start": "2027-04-16", "end": "2027-04-12"}}, "dates.end"),
        ({"format": "hybrid"}, "format"),
        ({"participants": 9}, "participants"),
        ({"goals": "short"}, "goals"),
        ({"host_id": "not-a-uuid"}, "host_id"),
        ({"owner": "someone"}, "owner"),
    ):
        response = await platform.request(visitor, host, **changes)
        assert response.status_code == 422, (changes, response.text)
        assert any(e["field"] == field for e in response.json()["errors"]), (field, response.json()["errors"])
    created = (await platform.request(visitor, host)).json()
    no_revision = await platform.exchanges.post(
        f"/api/exchanges/{created['exchange_id']}/accept", json={"agenda": AGENDA}, headers=host.headers
    )
    assert no_revision.status_code == 428
    stale = await platform.step(created["exchange_id"], "accept", host.headers, 5, {"agenda": AGENDA})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    assert (await platform.exchanges.post("/api/exchanges", json={})).status_code == 401
