"""An exchange through its pages, in a browser, on the running system: the visitor asks a proposed host from its
application's page, the host accepts from its list of requests, both partnerships' managers confirm the
Commitment to Quality (and see their totals), and after the end date the visitor files its closing report.
No contact shows before the host accepts; every page passes axe-core and the main ones take screenshots."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from cx_kit.testing import wait_until

from tests.browser.conftest import Person, mail_text, mails_to
from tests.browser.test_pages import FIRST, SECOND, _host_answers, _visitor_answers, apply, publish
from tests.conftest import RunningSystem

pytestmark = pytest.mark.browser

# Monday 12 to Friday 16 April 2027: inside the first example host's availability and the first visitor's window.
START, END = "2027-04-12", "2027-04-16"
GOALS = "We want to learn how a living lab brokers pilots between farms and start-ups, and how data is shared."
AGENDA = "Day one: the living lab. Day two: the data platform. Days three to five: pilots with member companies."
LEARNT = "We learnt how the living lab brokers pilots between start-ups and farms, and how it keeps data safe."
FOLLOW_UP = "We start a data-sharing pilot with three dairy farms in spring and invite the host to visit us in June."


@contextlib.contextmanager
def exchanges_today(system: RunningSystem, day: str) -> Iterator[None]:
    """The exchanges service's today is `day` (its development clock file, in the system's run folder)."""
    clock = Path(system.issuer_key_file).parent.parent / "exchanges-today"
    clock.write_text(day, encoding="utf-8")
    try:
        yield
    finally:
        clock.unlink(missing_ok=True)


async def open_exchange(person: Person, name: str) -> None:
    """From the list of the person's exchanges, open the one whose link is `name`."""
    page = await person.open("/exchanges")
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Exchange of")


# What the subject of each step's mail says (the notifier's exchange-step template), in the order of the steps.
STEPS = ("asks you for an exchange", "accepted the exchange", "is agreed: grant", "is completed")


async def exchange_mails(mailpit: str, address: str, count: int) -> list[dict]:
    """The exchange mails Mailpit holds for `address` (not the proposals), once there are `count` of them."""

    async def enough() -> list[dict] | None:
        found = [m for m in await mails_to(mailpit, address) if any(s in m["Subject"] for s in STEPS)]
        return found if len(found) >= count else None

    await wait_until(enough, timeout=60, interval=0.5, message=f"{count} exchange mails to {address}")
    return sorted(await enough() or [], key=lambda m: m["Created"])


async def test_an_exchange_is_requested_accepted_confirmed_by_both_partnerships_and_reported(
    people, run, running_system
) -> None:
    host_payload = _host_answers(run, "Exchange Lab Cluster")
    host_name = host_payload["organisation"]["name"]
    host = await people(host_name, email=f"host@exchange-{run}.example")
    await publish(host, host_payload, FIRST)
    visitor_payload = _visitor_answers(run, host_payload)
    visitor_name = visitor_payload["organisation"]["name"] = f"Exchange Visitor {run}"
    visitor = await people(visitor_name, email=f"visitor@exchange-{run}.example")
    await apply(visitor, visitor_payload, SECOND)

    page = visitor.page
    ask = page.get_by_role("link", name=f"Ask {host_name} for an exchange")
    await expect(ask).to_be_visible(timeout=60_000)
    await ask.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Ask {host_name} for an exchange")
    await page.get_by_label("First day").fill(START)
    await page.get_by_label("Last day").fill(END)
    await page.get_by_label("Format").select_option("physical")
    await page.get_by_label("Goals").fill(GOALS)
    await page.get_by_label("Message to the host").fill("We would love to visit you in April.")
    await visitor.check("exchange-request")
    await page.get_by_role("button", name="Send the request").click()
    await expect(page.get_by_role("status")).to_contain_text("Your request is sent")
    await expect(page.locator(".meta .state")).to_have_text("Requested")
    assert "host@exchange-" not in await page.content(), "no contact before the host accepts"
    await visitor.check()

    listed = await host.open("/exchanges")
    await expect(listed.get_by_role("heading", name="Requests waiting for your answer (1)")).to_be_visible()
    await host.check("exchange-requests")
    await listed.get_by_role("link", name=f"{visitor_name} asks {host_name}").click()
    assert "visitor@exchange-" not in await listed.content(), "no contact before the host accepts"
    await listed.get_by_label("Agenda").fill(AGENDA)
    await listed.get_by_role("button", name="Accept").click()
    await expect(listed.get_by_role("status")).to_contain_text("You accepted the request")
    await expect(listed.locator(".contacts")).to_contain_text(f"visitor@exchange-{run}.example")
    await host.check("exchange-accepted")

    for partnership in (FIRST, SECOND):
        manager = await people(f"Office {partnership} {run}", role="manager", partnership=partnership)
        await open_exchange(manager, f"{visitor_name} with {host_name}")
        await manager.page.get_by_role("button", name="Confirm the Commitment to Quality").click()
        await expect(manager.page.get_by_role("status")).to_contain_text("Your partnership confirmed")
    await expect(manager.page.locator(".meta .state")).to_have_text("Agreed")
    await expect(manager.page.locator(".facts").first).to_contain_text("EUR")
    await manager.check("exchange-agreed")
    totals = await manager.open("/exchanges")
    await expect(totals.locator(".totals")).to_contain_text("Agreed")
    await manager.check("exchange-partnership-totals")

    with exchanges_today(running_system, "2027-04-19"):
        await open_exchange(visitor, f"{visitor_name} with {host_name}")
        await page.get_by_role("link", name="File the closing report").click()
        await page.get_by_label("What you learnt").fill(LEARNT)
        await page.get_by_label("What follows").fill(FOLLOW_UP)
        await visitor.check("exchange-report")
        await page.get_by_role("button", name="File the report").click()
        await expect(page.get_by_role("status")).to_contain_text("the exchange is completed")
        await expect(page.locator(".meta .state")).to_have_text("Completed")
        await visitor.check("exchange-completed")

    # The notifier mailed each step to the side it concerns, once: read from the real SMTP sink.
    mailpit = running_system.infrastructure.mailpit_url
    host_email, visitor_email = f"host@exchange-{run}.example", f"visitor@exchange-{run}.example"
    to_host = await exchange_mails(mailpit, host_email, 4)
    to_visitor = await exchange_mails(mailpit, visitor_email, 3)
    steps = STEPS
    assert [next(s for s in steps if s in m["Subject"]) for m in to_host] == list(steps), "each step once, in order"
    assert [next(s for s in steps if s in m["Subject"]) for m in to_visitor] == list(steps[1:])
    requested = await mail_text(mailpit, to_host[0]["ID"])
    assert visitor_email not in requested, "the request's mail holds no contact: the host has not accepted yet"
    accepted = await mail_text(mailpit, to_host[1]["ID"])
    assert visitor_email in accepted, "after acceptance each side is told the other's contact"
