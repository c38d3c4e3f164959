"""The product as its people meet it, in a browser, through the gateway of the running system.

A host signs in and publishes its entry, then edits it; a visitor signs in, applies and sees its ranked hosts
with names and reasons, and gets an e-mail whose link opens the host's page; a stale edit and a field error
show beside their field; the catalogue's filters narrow it; a manager sees only its partnership. Every page
on the way passes axe-core, and the main ones take screenshots (into docs/screenshots/ with `make screenshots`).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from cx_contracts import examples
from cx_contracts.vocabulary import PARTNERSHIPS
from cx_kit.testing import wait_until

from tests.browser.conftest import Person, mail_text, mails_to

pytestmark = pytest.mark.browser

FIRST, SECOND = list(PARTNERSHIPS)[:2]


def _host_answers(run: str, name: str = "Living Lab Cluster") -> dict[str, Any]:
    payload = examples.host_entry_payload(0)
    payload["organisation"]["name"] = f"{name} {run}"
    # A keyword of this host's own: the filters find it by it, and a visitor asking for it ranks it first
    # among the hosts with the same answers that earlier runs left in the catalogue.
    payload["answers"]["keywords"] = [keyword(run, name), "precision farming"]
    return payload


def keyword(run: str, name: str) -> str:
    """The keyword only the host `name` of this run has."""
    return f"{name.split()[0].lower()}{run}"


def _visitor_answers(run: str, host: dict[str, Any]) -> dict[str, Any]:
    payload = examples.application_payload(0)
    payload["organisation"]["name"] = f"Visiting Cluster {run}"
    answers = payload["answers"]
    # The visitor wants to learn exactly what the host offers, in the host's words.
    answers["goals"] = host["answers"]["expertise"]
    for shared in ("ecosystems", "topics", "activities", "languages", "formats", "keywords"):
        answers[shared] = host["answers"][shared]
    answers["preferred_countries"] = [host["organisation"]["country"]]
    answers["excluded_countries"] = []
    if payload["organisation"]["country"] == host["organisation"]["country"]:
        payload["organisation"]["country"] = "SI"
    return payload


async def fill(page: Page, payload: dict[str, Any], partnership: str) -> None:
    """Answer the questionnaire on the page with `payload` (an API document), field by field."""
    organisation, answers = payload["organisation"], payload["answers"]
    await page.get_by_label("Registered name").fill(organisation["name"])
    await page.get_by_label("Kind of organisation").select_option(organisation["kind"])
    await page.get_by_label("Country of registration").select_option(organisation["country"])
    await page.get_by_label("City or town").fill(organisation["city"])
    await page.get_by_label("Website").fill(organisation["website"])
    await page.locator("#field-partnership").select_option(partnership)
    await page.get_by_label("Full name").fill(payload["contact"]["name"])
    for name, value in answers.items():
        if name == "availability":
            for row, period in enumerate(value):
                await page.locator(f'[name="answers.availability[{row}].start"]').fill(period["start"])
                await page.locator(f'[name="answers.availability[{row}].end"]').fill(period["end"])
        elif name == "travel_window":
            for end in ("start", "end"):
                await page.locator(f'[name="answers.travel_window.{end}"]').fill(value[end])
        elif name in ("languages", "keywords"):
            await page.locator(f'[name="answers.{name}"]').fill(", ".join(value))
        elif isinstance(value, list):
            for item in value:
                await page.locator(f'input[name="answers.{name}"][value="{item}"]').check()
        else:
            await page.locator(f'[name="answers.{name}"]').fill(str(value))


async def submit(person: Person, link: str, button: str, done: str, payload: dict[str, Any], partnership: str) -> str:
    """From the front page's `link`, answer the questionnaire and send it; returns the new record's id."""
    page = await person.open("/")
    await page.get_by_role("link", name=link).click()
    await fill(page, payload, partnership)
    await page.get_by_role("button", name=button).click()
    await expect(page.get_by_role("status")).to_contain_text(done)
    record_id = page.url.rsplit("/", 1)[-1]
    person.created.append(("/entries/" if button == "Publish" else "/applications/") + record_id)
    return record_id


async def publish(host: Person, payload: dict[str, Any], partnership: str = FIRST) -> str:
    """The host publishes its entry; returns the entry's id."""
    return await submit(host, "Publish a host entry", "Publish", "Your entry is published", payload, partnership)


async def apply(visitor: Person, payload: dict[str, Any], partnership: str = FIRST) -> str:
    """The visitor applies; returns the application's id."""
    return await submit(visitor, "Apply for an exchange", "Apply", "Your application is in", payload, partnership)


async def test_a_host_signs_in_publishes_its_entry_and_edits_it(people, run) -> None:
    host = await people(f"Living Lab Cluster {run}", email=f"host@host-{run}.example")
    await host.check("front-page")
    page = await host.open("/entries/new")
    await host.check("host-questionnaire")

    host_id = await publish(host, _host_answers(run))

    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Living Lab Cluster {run}")
    await expect(page.get_by_text("Oldenburg, Germany")).to_be_visible()
    assert f"host@host-{run}.example" not in await page.content(), "the public page shows no contact"
    await host.check("host-page")

    await page.get_by_role("link", name="Edit the entry").click()
    await page.get_by_label("Exchanges you can take on at once").fill("5")
    await page.get_by_role("button", name="Save").click()

    await expect(page.get_by_role("status")).to_contain_text("Your host entry is saved (revision 2)")
    await expect(page.locator(".facts")).to_contain_text("5")
    page = await host.open("/entries")
    await expect(page.get_by_role("link", name=f"Living Lab Cluster {run}", exact=True)).to_have_attribute(
        "href", f"/catalogue/hosts/{host_id}"
    )
    await host.check("host-entries")


async def test_a_field_error_and_a_stale_edit_are_shown_beside_their_field(people, run) -> None:
    host = await people(f"Stale Cluster {run}", email=f"host@stale-{run}.example")
    payload = _host_answers(run, "Stale Cluster")
    host_id = await publish(host, payload)

    page = await host.open(f"/entries/{host_id}/edit")
    await page.get_by_label("Languages").fill("de, EN")
    await page.get_by_role("button", name="Save").click()

    languages = page.locator("#field-answers-languages-error")
    await expect(languages).to_contain_text("\u201cEN\u201d")
    await expect(page.get_by_role("alert")).to_contain_text("Languages")
    await expect(page.locator("[data-focus-on-load]")).to_be_focused()
    await host.check("field-error")

    # Meanwhile the same entry is saved from another tab.
    other = await host.context.new_page()
    await other.goto(f"{host.gateway}/entries/{host_id}/edit")
    await other.get_by_label("Exchanges you can take on at once").fill("9")
    await other.get_by_role("button", name="Save").click()
    await expect(other.get_by_role("status")).to_contain_text("saved")

    await page.get_by_label("Languages").fill("de, en")
    await page.get_by_label("Exchanges you can take on at once").fill("4")
    await page.get_by_role("button", name="Save").click()

    await expect(page.get_by_role("alert")).to_contain_text("changed since you opened it")
    await expect(page.locator("#field-answers-capacity-current")).to_contain_text("The current version says: 9")
    await expect(page.get_by_label("Exchanges you can take on at once")).to_have_value("4")
    await host.check("stale-edit")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text("saved (revision 3)")


async def test_a_visitor_applies_sees_ranked_hosts_with_names_and_reasons_and_its_mail_links_the_host(
    people, run, running_system
) -> None:
    host_payload = _host_answers(run, "Matching Lab Cluster")
    host = await people(host_payload["organisation"]["name"], email=f"host@match-{run}.example")
    host_id = await publish(host, host_payload)
    visitor_email = f"visitor@match-{run}.example"
    visitor = await people(f"Visiting Cluster {run}", email=visitor_email)
    page = await visitor.open("/applications/new")
    await visitor.check("visitor-questionnaire")

    application_id = await apply(visitor, _visitor_answers(run, host_payload))

    ranked = page.locator("#ranked-hosts")
    # The page asks for new proposals by itself: no reload.
    await expect(ranked.get_by_role("link", name=host_payload["organisation"]["name"], exact=True)).to_be_visible(
        timeout=60_000
    )
    proposal = ranked.locator(".ranked-host", has_text=host_payload["organisation"]["name"])
    await expect(proposal).to_contain_text("Oldenburg, Germany")
    await expect(proposal).to_contain_text("What they can teach is close to what you want to learn.")
    await expect(proposal).to_contain_text("% of the fit")
    await visitor.check("application-with-ranked-hosts")

    mailpit = running_system.infrastructure.mailpit_url
    mails = await wait_until(lambda: mails_to(mailpit, visitor_email), timeout=120, interval=0.5, message="the mail")
    text = await mail_text(mailpit, mails[0]["ID"])
    reason = "What they can teach is close to what you want to learn."
    assert reason in text, "the mail and the page give the same reasons"
    link = re.search(rf"https?://\S+/catalogue/hosts/{host_id}", text)
    assert link, text
    mail_page = await visitor.open(link[0].removeprefix(visitor.gateway))
    await expect(mail_page.get_by_role("heading", level=1)).to_have_text(host_payload["organisation"]["name"])
    proposals = re.search(rf"https?://\S+/applications/{application_id}\b", text)
    assert proposals, text
    await visitor.open(proposals[0].removeprefix(visitor.gateway))
    await expect(visitor.page.locator("#ranked-hosts")).to_contain_text(host_payload["organisation"]["name"])


async def test_the_catalogue_filters_narrow_the_hosts_and_show_no_contact(people, run) -> None:
    host = await people(f"Filter Cluster {run}", email=f"host@filter-{run}.example")
    payload = _host_answers(run, "Filter Cluster")
    await publish(host, payload)
    anyone = await people()

    page = await anyone.open("/catalogue")
    await page.get_by_label("Words in the expertise or keywords").fill(keyword(run, "Filter Cluster"))
    await page.get_by_label("Country").select_option("DE")
    await page.get_by_role("button", name="Show hosts").click()

    await expect(page.get_by_role("link", name=f"Filter Cluster {run}", exact=True)).to_be_visible()
    assert f"host@filter-{run}.example" not in await page.content()
    await anyone.check("catalogue")

    await page.get_by_label("Country").select_option("SI")
    await page.get_by_role("button", name="Show hosts").click()
    await expect(page.get_by_role("heading", name="No host matches these filters")).to_be_visible()

    await page.get_by_text("Format", exact=True).click()
    await page.get_by_label("Virtual").check()
    await page.get_by_label("Country").select_option("")
    await page.get_by_role("button", name="Show hosts").click()
    await expect(page.get_by_role("link", name=f"Filter Cluster {run}", exact=True)).to_be_visible()
    await anyone.check()


async def test_a_manager_sees_the_applications_of_its_partnership_and_no_other(people, run) -> None:
    host_payload = _host_answers(run)
    ours = await people(f"Our Visitor {run}", email=f"visitor@ours-{run}.example")
    ours_payload = _visitor_answers(run, host_payload)
    ours_payload["organisation"]["name"] = f"Our Visitor {run}"
    await apply(ours, ours_payload, FIRST)
    theirs = await people(f"Their Visitor {run}", email=f"visitor@theirs-{run}.example")
    theirs_payload = _visitor_answers(run, host_payload)
    theirs_payload["organisation"]["name"] = f"Their Visitor {run}"
    their_id = await apply(theirs, theirs_payload, SECOND)

    manager = await people(f"Partnership Office {run}", role="manager", partnership=FIRST)
    page = await manager.open("/partnership")

    await expect(page.get_by_role("link", name=f"Our Visitor {run}", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name=f"Their Visitor {run}", exact=True)).to_have_count(0)
    await manager.check("partnership")
    await page.get_by_role("link", name=f"Our Visitor {run}", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Application of Our Visitor {run}")
    await expect(page.get_by_role("link", name="Edit the application")).to_have_count(0)
    await manager.check()

    await manager.open(f"/applications/{their_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await manager.check()
