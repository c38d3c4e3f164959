"""The pages in a real browser: Debian's chromium driven by Playwright, against the gateway of the whole system.

The system is the e2e tests' `running_system` (deploy/local/services.sh starts every service, the web pages,
the development issuer and the gateway). Each person signs in through the development issuer's sign-in form,
in a browser context of its own. Every page a test looks at is checked with axe-core (no serious or critical
violation) and with the browser's console (no script or style the CSP refused).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from cx_kit.testing import REPO_ROOT

from tests.conftest import RunningSystem

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# Every run takes them (the phone width is looked at by axe-core too); they land in docs/ only when asked
# (`make screenshots`), so a test run does not rewrite committed pictures.
SCREENSHOTS = Path(os.environ.get("CX_SCREENSHOTS_DIR") or REPO_ROOT / ".run" / "screenshots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SERIOUS = {"serious", "critical"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, headless; Playwright downloads no browser of its own."""
    _tools_are_installed()
    async with async_playwright() as playwright:
        # As root (CI), chromium's sandbox cannot start; the pages under test are the platform's own.
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


def _tools_are_installed() -> None:
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run `make browser-tools`"
    assert AXE.is_file(), f"{AXE} is missing: run `make browser-tools`"


@functools.cache
def axe_source() -> str:
    """axe-core's script, as npm installed it from the committed lock."""
    return AXE.read_text("utf-8")


@dataclass
class Person:
    """Someone using the platform in a browser of their own."""

    context: BrowserContext
    page: Page
    gateway: str
    email: str
    refused: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # "/entries/<id>", "/applications/<id>": withdrawn at the end

    async def open(self, path: str) -> Page:
        """Go to `path` on the platform and wait for the page to settle."""
        await self.page.goto(self.gateway + path)
        await self.page.wait_for_load_state("networkidle")
        return self.page

    async def check(self, name: str | None = None) -> None:
        """The page passes axe-core (nothing serious or critical) and the CSP refused nothing on it.

        With `name`, screenshots of the page at desktop and phone width go to SCREENSHOTS.
        """
        await check_accessibility(self.page)
        assert not self.refused, f"the browser refused: {self.refused}"
        if name:
            await screenshots(self.page, name)


async def check_accessibility(page: Page) -> None:
    """Run axe-core on the page; fail on any serious or critical violation, naming each."""
    # page.evaluate runs through the debugging protocol, which the page's CSP does not govern.
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(axe_source())
    results = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in SERIOUS
    ]
    assert not serious, f"axe-core on {page.url}:\n" + "\n".join(serious)


async def screenshots(page: Page, name: str) -> None:
    """The page at desktop and phone width, whole, as <name>-desktop.png and -phone.png in SCREENSHOTS."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True, animations="disabled")
    await page.set_viewport_size(DESKTOP)


@pytest.fixture
async def people(browser: Browser, running_system: RunningSystem) -> AsyncIterator[Any]:
    """A factory of people, each signed in (or not) in a browser context of its own."""
    contexts: list[BrowserContext] = []
    everyone: list[Person] = []

    async def person(
        organisation: str | None = None,
        *,
        email: str | None = None,
        role: str = "member",
        partnership: str | None = None,
    ) -> Person:
        context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
        contexts.append(context)
        page = await context.new_page()
        someone = Person(context, page, running_system.gateway, email or "")
        everyone.append(someone)
        page.on("console", lambda message: _refusal(someone, message))
        if organisation is not None:
            await sign_in(someone, organisation, email=email, role=role, partnership=partnership)
        return someone

    yield person
    for someone in everyone:
        for record in someone.created:
            await withdraw(someone, record)
    for context in contexts:
        await context.close()


async def withdraw(person: Person, record: str) -> None:
    """Withdraw a record from its page, as its owner would (so runs leave no open applications behind)."""
    page = await person.open(f"{record}/withdraw")
    await page.get_by_role("button", name="Withdraw").click()
    await page.get_by_role("status").get_by_text("is withdrawn").wait_for()


def _refusal(person: Person, message: ConsoleMessage) -> None:
    # Chromium reports what the Content-Security-Policy blocked as console errors.
    if message.type == "error" and "Content Security Policy" in message.text:
        person.refused.append(message.text)


async def sign_in(
    person: Person, organisation: str, *, email: str | None, role: str = "member", partnership: str | None = None
) -> None:
    """Sign in from the page header's link, through the development issuer's sign-in form, and back."""
    page = await person.open("/")
    await page.get_by_role("link", name="Sign in").click()
    await page.wait_for_load_state()
    assert "/authorize" in page.url, f"sign-in did not reach the issuer: {page.url}\n{(await page.content())[:2000]}"
    await page.get_by_label("Organisation").fill(organisation)
    if email:
        await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Role").select_option(role)
    if partnership:
        await page.get_by_label("Partnership").select_option(partnership)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{person.gateway}/**")
    await page.get_by_text("Signed in as").wait_for()


@pytest.fixture(scope="module")
def run() -> str:
    """A name of this run's own: the system keeps what earlier runs left, and tests tell theirs apart by it."""
    return uuid.uuid4().hex[:8]


async def mails_to(mailpit: str, address: str) -> list[dict[str, Any]]:
    """The messages Mailpit holds for `address`."""
    import httpx

    async with httpx.AsyncClient(base_url=mailpit, timeout=10) as client:
        found = await client.get("/api/v1/search", params={"query": f'to:"{address}"'})
        return list(found.json().get("messages", []))


async def mail_text(mailpit: str, message_id: str) -> str:
    """The plain-text part of one message in Mailpit."""
    import httpx

    async with httpx.AsyncClient(base_url=mailpit, timeout=10) as client:
        message = await client.get(f"/api/v1/message/{message_id}")
        return str(json.loads(message.text)["Text"])
