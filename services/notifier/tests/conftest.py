"""What the notifier's unit and integration tests share: contact cards to mail, and an HTML well-formedness check."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from uuid import UUID, uuid4

import pytest

from cx_contracts import examples
from cx_contracts.api import ContactCard

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Elements a <p> cannot contain: the parser would close the paragraph, which is a sign of broken markup.
BLOCK_ELEMENTS = {"p", "div", "ul", "ol", "table", "h1", "h2", "h3", "h4", "hr", "blockquote", "pre"}


class _WellFormed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: list[str] = []
        self.problems: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.strip().lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag in BLOCK_ELEMENTS and "p" in self.stack:
            self.problems.append(f"<{tag}> inside <p>")
        if tag == "script":
            self.problems.append("a <script> element")
        for name, _ in attrs:
            if name.startswith("on"):
                self.problems.append(f"an event handler attribute {name}")
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            self.problems.append(f"</{tag}> closes a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()


def html_problems(html: str) -> list[str]:
    """What keeps `html` from being a well-formed HTML5 document (empty when it is one)."""
    checker = _WellFormed()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    if not checker.doctype:
        problems.append("no <!DOCTYPE html>")
    if checker.stack:
        problems.append(f"unclosed: {checker.stack}")
    for required in ("html", "head", "title", "body"):
        if required not in checker.seen:
            problems.append(f"no <{required}>")
    return problems


@pytest.fixture
def check_html() -> Callable[[str], list[str]]:
    """The HTML well-formedness check."""
    return html_problems


def contact_card(
    kind: str,
    *,
    card_id: UUID | None = None,
    index: int = 0,
    email: str | None = None,
    languages: tuple[str, ...] = ("en",),
    **organisation: Any,
) -> ContactCard:
    """A contact card for example host or visitor `index`, with organisation fields and address overridden."""
    if kind == "host":
        org = examples.host_organisation(index, **organisation)
        contact = examples.host_contact(index)
    else:
        org = examples.visitor_organisation(index, **organisation)
        contact = examples.visitor_contact(index)
    card_id = card_id or uuid4()
    return ContactCard(
        id=card_id,
        kind=kind,
        organisation=org.model_dump(mode="json"),
        contact={"name": contact.name, "email": email or contact.email},
        languages=list(languages),
    )


@pytest.fixture
def make_card() -> Callable[..., ContactCard]:
    """Factory of contact cards (see `contact_card`)."""
    return contact_card
