"""A match run becomes mails on the real broker, store and Mailpit: who gets what, in which words, and the events."""

from __future__ import annotations

import json

import httpx
import pytest

from cx_contracts import examples
from cx_contracts.codec import parse_event, read_event_headers
from cx_contracts.events import NotificationKind
from cx_contracts.traceparent import new_traceparent, trace_id_of
from cx_kit.testing import read_topic, wait_until

pytestmark = pytest.mark.integration


async def test_one_match_with_three_hosts_sends_exactly_four_mails_to_the_right_people_with_the_right_words(
    world, check_html
):
    visitor = world.organisation("visitor")
    hosts = [world.organisation("host", index=i) for i in range(3)]
    match = examples.match_found(application_id=visitor.id, host_ids=[h.id for h in hosts])

    trace = new_traceparent()
    async with world.running():
        await world.publish(match, traceparent=trace)
        await world.wait_for_mails(4)
        sent = await read_topic(
            world.infrastructure.kafka_bootstrap, world.notification_sent_topic, until=lambda records: len(records) >= 4
        )
        mails = await world.mails()

    assert len(mails) == 4, "exactly one mail per recipient"
    assert world.received(mails, [visitor, *hosts]) == {card.id: 1 for card in (visitor, *hosts)}
    by_address = {world.addresses_of(m)[0]: m for m in mails}

    visitor_mail = by_address[visitor.contact.email]
    assert visitor_mail["Subject"] == f"3 hosts proposed for {visitor.organisation.name}"
    assert visitor_mail["MessageID"] == f"{match.match_run_id}.{visitor.id}@clusterxchange.example"
    body = await world.mailpit.message(visitor_mail["ID"])
    text = body["Text"]
    positions = [text.index(h.organisation.name) for h in hosts]
    assert positions == sorted(positions), "hosts in rank order"
    for host in hosts:
        assert f"https://exchange.example/catalogue/hosts/{host.id}" in text
        assert f'href="https://exchange.example/catalogue/hosts/{host.id}"' in body["HTML"]
    assert "Germany" in text and "Italy" in text and "Lithuania" in text
    first = text[positions[0] : positions[1]]
    assert (
        first.index("What they can teach is close to what you want to learn. (70% of the fit)")
        < first.index("They work in the industrial ecosystems you work in. (24% of the fit)")
        < first.index("They are in a country you would like to visit. (6% of the fit)")
    ), "the explanation, highest first"
    assert check_html(body["HTML"]) == []

    for rank, host in enumerate(hosts, start=1):
        mail = by_address[host.contact.email]
        assert mail["Subject"] == f"{visitor.organisation.name} (Bulgaria) may contact you for an exchange"
        assert mail["To"][0]["Name"] == host.contact.name
        body = await world.mailpit.message(mail["ID"])
        assert f"Dear {host.contact.name}," in body["Text"]
        assert f"proposed {host.organisation.name} as a host for {visitor.organisation.name}" in body["Text"]
        assert f"You are number {rank} on their list" in body["Text"]
        assert "Your expertise is close to what they want to learn." in body["Text"]
        assert visitor.contact.email not in body["Text"] + body["HTML"], "no contact of the other party"
        assert check_html(body["HTML"]) == []

    raw = await world.mailpit.raw(visitor_mail["ID"])
    assert raw.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in raw.iter_parts()] == ["text/plain", "text/html"]
    assert {part.get_content_charset() for part in raw.iter_parts()} == {"utf-8"}

    events = [parse_event(r.topic, r.value, r.headers, key=r.key) for r in sent]
    assert sorted((e.recipient_kind, str(e.recipient_id)) for e in events) == sorted(
        [("visitor", str(visitor.id))] + [("host", str(h.id)) for h in hosts]
    )
    assert {e.match_run_id for e in events} == {match.match_run_id}
    assert {e.kind for e in events} == {NotificationKind.MATCH_PROPOSAL_VISITOR, NotificationKind.MATCH_PROPOSAL_HOST}
    assert all(r.key == str(e.recipient_id).encode() for r, e in zip(sent, events, strict=True))
    # Each NotificationSent continues the match run's trace, as a span of its own.
    spans = [read_event_headers(r.headers).traceparent for r in sent]
    assert {trace_id_of(span) for span in spans} == {trace_id_of(trace)}
    assert len({span.split("-")[2] for span in spans} | {trace.split("-")[2]}) == 5
    entries = await world.entries()
    assert {e["status"] for e in entries} == {"sent"} and len(entries) == 4
    assert all(e["outbox"] == [] for e in entries), "every event left the outbox"
    assert not any(visitor.contact.email in json.dumps(e, default=str) for e in entries), "no address in the ledger"


async def test_markup_or_script_in_organisation_names_and_texts_arrives_escaped(world, check_html):
    hostile = '<script>alert("cx")</script> & <img src=x onerror="steal()">'
    visitor = world.organisation("visitor", name="Visitors " + hostile, city="<b>Sofia</b>")
    host = world.organisation("host", name="Host " + hostile)
    match = examples.match_found(application_id=visitor.id, host_ids=[host.id])

    async with world.running():
        await world.publish(match)
        mails = await world.wait_for_mails(2)

    for mail in mails:
        body = await world.mailpit.message(mail["ID"])
        html = body["HTML"]
        assert "<script" not in html and "<img" not in html and "<b>Sofia" not in html
        assert (
            "&lt;script&gt;alert(&#34;cx&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=&#34;steal()&#34;&gt;" in html
        )
        assert hostile in body["Text"], "plain text keeps the name as typed"
        assert check_html(html) == []
    subjects = {m["Subject"] for m in mails}
    assert f"1 host proposed for Visitors {hostile}" in subjects


async def test_a_withdrawn_or_erased_organisation_gets_no_mail_and_the_ledger_says_so(world):
    visitor = world.organisation("visitor")
    staying = world.organisation("host", index=0)
    withdrawn = world.organisation("host", index=1, serve=False)
    gone_visitor = world.organisation("visitor", index=1, serve=False)
    told_nothing = world.organisation("host", index=2)
    first = examples.match_found(application_id=visitor.id, host_ids=[withdrawn.id, staying.id])
    second = examples.match_found(application_id=gone_visitor.id, host_ids=[told_nothing.id])

    async with world.running():
        await world.publish(first, second)
        await world.wait_for_mails(2)

        async def settled():
            entries = await world.entries()
            return len(entries) == 5 and all(e["status"] != "pending" for e in entries) and entries

        entries = await wait_until(settled, message="every entry settled")
    mails = await world.mails()

    assert world.received(mails, [visitor, staying, withdrawn, gone_visitor, told_nothing]) == {
        visitor.id: 1,
        staying.id: 1,
    }
    visitor_text = (
        await world.mailpit.message(next(m["ID"] for m in mails if world.addresses_of(m) == [visitor.contact.email]))
    )["Text"]
    assert staying.organisation.name in visitor_text
    assert withdrawn.organisation.name not in visitor_text, "a withdrawn host is not proposed"
    assert "1 host proposed" in next(m["Subject"] for m in mails if world.addresses_of(m) == [visitor.contact.email])
    status = {e["recipient_id"]: (e["status"], e["reason"]) for e in entries}
    assert status[str(withdrawn.id)] == ("skipped", "the host is unknown, withdrawn or erased")
    assert status[str(gone_visitor.id)] == ("skipped", "the visitor is unknown, withdrawn or erased")
    assert status[str(told_nothing.id)] == ("skipped", "the visitor is unknown, withdrawn or erased")


async def test_a_contact_service_that_fails_for_a_moment_delays_the_mail_but_does_not_lose_or_repeat_it(world):
    visitor = world.organisation("visitor")
    host = world.organisation("host")
    world.contacts.fail(host, 503, 500)
    match = examples.match_found(application_id=visitor.id, host_ids=[host.id])

    async with world.running(consumer_backoff_initial_s=0.05):
        await world.publish(match)
        await world.wait_for_mails(2)

        async def all_sent():
            entries = await world.entries()
            return len(entries) == 2 and all(e["status"] == "sent" for e in entries)

        await wait_until(all_sent, message="both entries sent")
    mails = await world.mails()

    assert world.received(mails, [visitor, host]) == {visitor.id: 1, host.id: 1}
    assert world.contacts.requests[("host", str(host.id))] >= 3, "the failing look-ups were retried"
    assert world.contacts.unauthorised == 0, "every look-up carried the service token"


async def test_the_status_route_counts_the_ledger_by_status_without_personal_data(world):
    visitor = world.organisation("visitor")
    hosts = [world.organisation("host", index=i) for i in range(2)]
    gone = world.organisation("host", index=2, serve=False)
    match = examples.match_found(application_id=visitor.id, host_ids=[*(h.id for h in hosts), gone.id])

    async with world.running() as app:
        await world.publish(match)
        await world.wait_for_mails(3)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifier") as client:

            async def counted():
                response = await client.get("/api/notifier/status")
                body = response.json()
                return body["proposals"]["sent"] == 3 and body["events_waiting"] == 0 and response

            response = await wait_until(counted, message="the status shows three sent")

    body = response.json()
    assert response.status_code == 200
    assert body["proposals"] == {"pending": 0, "sent": 3, "skipped": 1, "deferred": 0, "digested": 0, "rejected": 0}
    assert body["digests"]["sent"] == 0
    assert "@" not in response.text and visitor.organisation.name not in response.text
