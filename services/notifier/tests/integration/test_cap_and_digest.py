"""A recipient is not flooded: past its cap, proposals wait and go out together as one digest when the period ends."""

from __future__ import annotations

import pytest

from cx_contracts import examples
from cx_contracts.codec import parse_event
from cx_contracts.events import NotificationKind
from cx_contracts.scalars import utc_now
from cx_kit.testing import read_topic, wait_until

from cx_notifier.domain.cap import RecipientCap

pytestmark = pytest.mark.integration

CAP = 2
PERIOD_S = 12.0


async def test_mails_over_a_recipients_cap_are_held_back_and_sent_as_one_digest_when_the_period_rolls_over(world):
    cap = RecipientCap(CAP, PERIOD_S)
    host = world.organisation("host", name=f"Capped Host {world.token}")
    visitors = [world.organisation("visitor", index=i, name=f"Visiting Cluster {i} {world.token}") for i in range(4)]
    runs = [examples.match_found(application_id=v.id, host_ids=[host.id]) for v in visitors]
    warm_up_visitor, warm_up_host = world.organisation("visitor"), world.organisation("host", index=1)

    async with world.running(mails_per_recipient=CAP, digest_period_s=PERIOD_S, digest_interval_s=0.5):
        # The consumer is assigned and warm before the period starts, so all four runs fall into one period.
        await world.publish(examples.match_found(application_id=warm_up_visitor.id, host_ids=[warm_up_host.id]))
        await world.wait_for_mails(2)
        started = cap.period_of(utc_now())
        await wait_until(
            lambda: _true(cap.period_of(utc_now()) > started),
            timeout=PERIOD_S + 2,
            message="the start of a fresh period",
        )
        period = cap.period_of(utc_now())
        await world.publish(*runs)

        async def digest_done():
            entries = {e["_id"]: e for e in await world.entries()}
            digest = entries.get(f"digest/{host.id}/{period}")
            if digest is None or digest["status"] != "sent":
                return None
            # Its members are closed by a second update, just after the digest is marked sent.
            return all(entries[m]["status"] != "deferred" for m in digest["members"]) and entries

        entries = await wait_until(digest_done, timeout=PERIOD_S + 15, message="the digest and its members closed")
        mails = await world.wait_for_mails(2 + 4 + CAP + 1)
        events = await read_topic(
            world.infrastructure.kafka_bootstrap,
            world.notification_sent_topic,
            until=lambda records: len(records) >= 2 + 4 + CAP + 1,
        )

    host_mails = [m for m in mails if world.addresses_of(m) == [host.contact.email]]
    proposals = [m for m in host_mails if "may contact you" in m["Subject"]]
    digests = [m for m in host_mails if m["Subject"] == f"2 more proposals for {host.organisation.name}"]
    assert len(proposals) == CAP, "no more than the cap one by one"
    assert len(digests) == 1 and len(host_mails) == CAP + 1
    assert world.received(mails, visitors) == {v.id: 1 for v in visitors}, "each visitor has its own cap"

    host_entries = sorted(
        (e for e in entries.values() if e["recipient_id"] == str(host.id) and e["kind"] != "digest"),
        key=lambda e: e["planned_at"],
    )
    assert {e["period"] for e in host_entries} == {period}, "all four runs fell into one period"
    assert [e["status"] for e in host_entries] == ["sent", "sent", "digested", "digested"]
    held_back = [
        v for v in visitors if any(e["application_id"] == str(v.id) and e["status"] == "digested" for e in host_entries)
    ]
    told = [v for v in visitors if v not in held_back]
    digest_text = (await world.mailpit.message(digests[0]["ID"]))["Text"]
    for visitor in held_back:
        assert visitor.organisation.name in digest_text
    for visitor in told:
        assert visitor.organisation.name not in digest_text, "a proposal mailed already is not repeated"
    digest = entries[f"digest/{host.id}/{period}"]
    assert digest["sent_at"] >= cap.period_end(period), "the digest waits for the period to end"
    assert sorted(digest["members"]) == sorted(e["_id"] for e in host_entries if e["status"] == "digested")

    kinds = [parse_event(r.topic, r.value, r.headers, key=r.key).kind for r in events]
    assert kinds.count(NotificationKind.DIGEST) == 1


async def _true(value: bool) -> bool:
    return value
