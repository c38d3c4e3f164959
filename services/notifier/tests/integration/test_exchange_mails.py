"""An exchange's steps become mails on the real broker, store and Mailpit: the request to the host, the acceptance
to both with each other's contact (and never a contact before it), the agreement with its grant, the completion;
each exactly once, however often a step is delivered; a decline to the visitor, a withdrawal to the other side."""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts import examples
from cx_contracts.codec import parse_event
from cx_contracts.events import (
    ExchangeAccepted,
    ExchangeAgreed,
    ExchangeCompleted,
    ExchangeDeclined,
    ExchangeRequested,
    ExchangeWithdrawn,
    NotificationKind,
)
from cx_kit.testing import read_topic

pytestmark = pytest.mark.integration


def steps_of(visitor: Any, host: Any) -> list[Any]:
    """requested -> accepted -> agreed -> completed of one exchange between `visitor` and `host`."""
    exchange_id = examples.exchange_step().exchange_id
    sides = {"exchange_id": exchange_id, "application_id": visitor.id, "host_id": host.id}
    return [
        examples.exchange_step(step, revision=revision, **sides)
        for revision, step in enumerate((ExchangeRequested, ExchangeAccepted, ExchangeAgreed, ExchangeCompleted), 1)
    ]


async def texts(world: Any, summaries: list[dict[str, Any]]) -> list[str]:
    """Subject, text and HTML of each mail, in one string each."""
    bodies = [await world.mailpit.message(s["ID"]) for s in summaries]
    return [f"{b['Subject']}\n{b['Text']}\n{b['HTML']}" for b in bodies]


async def test_requested_accepted_agreed_completed_mail_each_side_once_and_contacts_only_from_acceptance(
    world, check_html
) -> None:
    visitor, host = world.organisation("visitor"), world.organisation("host")
    requested, accepted, agreed, completed = steps_of(visitor, host)

    async with world.running():
        await world.publish_steps(requested, requested)  # a redelivery plans nothing new
        (to_host,) = await world.wait_for_mails(1)
        assert world.addresses_of(to_host) == [host.contact.email]
        (request_mail,) = await texts(world, [to_host])
        assert f"{visitor.organisation.name} asks you for an exchange" in request_mail
        assert visitor.contact.email not in request_mail and visitor.contact.name not in request_mail
        assert f"https://exchange.example/exchanges/{requested.exchange_id}" in request_mail

        await world.publish_steps(accepted)
        mails = await world.wait_for_mails(3)
        acceptance = [m for m in mails if m["ID"] != to_host["ID"]]
        by_address = {world.addresses_of(m)[0]: m for m in acceptance}
        host_text, visitor_text = await texts(
            world, [by_address[host.contact.email], by_address[visitor.contact.email]]
        )
        assert visitor.contact.email in host_text and visitor.contact.name in host_text
        assert host.contact.email in visitor_text and host.contact.name in visitor_text

        await world.publish_steps(agreed, completed, agreed)
        mails = await world.wait_for_mails(7)
        sent = await read_topic(
            world.infrastructure.kafka_bootstrap, world.notification_sent_topic, until=lambda r: len(r) >= 7
        )

    assert len(mails) == 7, "one mail a side a step: 1 request, 2 acceptances, 2 agreements, 2 completions"
    assert world.received(mails, [visitor, host]) == {host.id: 4, visitor.id: 3}
    bodies = await texts(world, mails)
    assert sum("is agreed: grant EUR 2,700.00" in b for b in bodies) == 2
    assert sum("is completed" in b.splitlines()[0] for b in bodies) == 2
    for body in bodies:
        assert check_html(body[body.index("<!DOCTYPE") :]) == []
    events = [parse_event(r.topic, r.value, r.headers, key=r.key) for r in sent]
    assert {(e.kind, str(e.recipient_id)) for e in events} == {
        (NotificationKind.EXCHANGE_REQUESTED, str(host.id)),
        *((NotificationKind.EXCHANGE_ACCEPTED, str(side.id)) for side in (visitor, host)),
        *((NotificationKind.EXCHANGE_AGREED, str(side.id)) for side in (visitor, host)),
        *((NotificationKind.EXCHANGE_COMPLETED, str(side.id)) for side in (visitor, host)),
    }
    assert {e.exchange_id for e in events} == {requested.exchange_id}
    entries = await world.entries()
    assert len(entries) == 7 and all(e["_id"].startswith(f"exchange/{requested.exchange_id}/") for e in entries)


async def test_a_decline_tells_the_visitor_and_a_withdrawal_the_other_side_only(world) -> None:
    visitor, host = world.organisation("visitor"), world.organisation("host")
    other_visitor = world.organisation("visitor", index=1)
    declined = examples.exchange_step(ExchangeDeclined, revision=2, application_id=visitor.id, host_id=host.id)
    withdrawn = examples.exchange_step(
        ExchangeWithdrawn, revision=3, application_id=other_visitor.id, host_id=host.id, withdrawn_by="visitor"
    )

    async with world.running():
        await world.publish_steps(declined, withdrawn)
        mails = await world.wait_for_mails(2)

    assert len(mails) == 2
    assert world.received(mails, [visitor, host, other_visitor]) == {visitor.id: 1, host.id: 1}
    declined_text, withdrawn_text = await texts(
        world, sorted(mails, key=lambda m: world.addresses_of(m)[0] != visitor.contact.email)
    )
    assert "declined your exchange request" in declined_text and host.contact.email not in declined_text
    assert "is withdrawn" in withdrawn_text and other_visitor.contact.email not in withdrawn_text
