"""Mail templates: Jinja2, one folder per language (ISO 639-1) under cx_notifier/templates.

Each folder holds, for every mail (visitor-proposal, host-proposal, digest), a subject, a plain-text and
an HTML template, a `_layout.html` they extend, and `_parts.txt` and `_parts.html`, the macros they share.
A folder of another language than English may hold a `phrases.json` translating the sentences that say
why a host fits (`criteria`, per audience; the English ones are `cx_contracts.explanation`'s, which the
web pages show too) and the `organisation_kinds` and `countries`. Adding a language is adding a folder;
English must be there. HTML templates are autoescaped, so nothing from an event or a contact card can
become markup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cx_contracts.explanation import Audience, Reason
from cx_contracts.questionnaire import OrganisationState
from cx_contracts.vocabulary import OrganisationKind, country_name

from cx_notifier.domain.exchanges import ExchangeMail
from cx_notifier.domain.language import DEFAULT_LANGUAGE
from cx_notifier.domain.proposals import Digest, HostProposal, ProposedHost, RenderedMail, VisitorProposal

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
MAILS = ("visitor-proposal", "host-proposal", "digest", "exchange-step")
PHRASES = "phrases.json"
REQUIRED_FILES = (
    "_layout.html",
    "_parts.txt",
    "_parts.html",
    *(f"{mail}.{part}" for mail in MAILS for part in ("subject.txt", "txt", "html")),
)


class MailTemplates:
    """Renders the notifier's mails in a language that has templates."""

    def __init__(self, folder: Path = TEMPLATES_DIR) -> None:
        self._env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.languages = frozenset(
            d.name for d in folder.iterdir() if d.is_dir() and all((d / f).is_file() for f in REQUIRED_FILES)
        )
        if DEFAULT_LANGUAGE not in self.languages:
            raise RuntimeError(f"templates for {DEFAULT_LANGUAGE!r} are missing from {folder}")
        self._phrases = {language: _phrases(folder / language) for language in self.languages}

    def visitor_proposal(self, view: VisitorProposal, language: str) -> RenderedMail:
        """The visitor's mail listing its proposed hosts."""
        language = self._available(language)
        return self._render("visitor-proposal", language, **self._visitor_context(view, language))

    def host_proposal(self, view: HostProposal, language: str) -> RenderedMail:
        """A host's mail naming the visitor organisation that may contact it."""
        language = self._available(language)
        return self._render("host-proposal", language, **self._host_context(view, language))

    def digest(self, view: Digest, language: str) -> RenderedMail:
        """What a period held back, in one mail: a visitor's new hosts, or a host's proposals over its cap."""
        language = self._available(language)
        return self._render(
            "digest",
            language,
            contact_name=view.contact_name,
            recipient_kind=view.recipient_kind,
            cap=view.cap,
            size=view.size,
            every=_every((view.period_end - view.period_start).total_seconds()),
            organisation=self._organisation(view.organisation, language),
            period_start=view.period_start.strftime("%Y-%m-%d %H:%M UTC"),
            period_end=view.period_end.strftime("%Y-%m-%d %H:%M UTC"),
            hosts=[self._proposed_host(host, language) for host in view.new_hosts],
            matches_page=view.matches_page,
            host_proposals=[self._host_context(h, language) for h in view.host_proposals],
        )

    def exchange_step(self, view: ExchangeMail, language: str) -> RenderedMail:
        """A side's mail about a step of its exchange."""
        language = self._available(language)
        own = self._organisation(view.organisation, language)
        unknown = {"name": "the other organisation", "kind": "", "city": "", "country": "", "website": ""}
        other = self._organisation(view.other, language) if view.other is not None else unknown
        visitor, host = (own, other) if view.side == "visitor" else (other, own)
        return self._render("exchange-step", language, visitor=visitor, host=host, other=other, **view.context())

    def reason_text(self, reason: Reason, audience: Audience, language: str) -> str:
        """The sentence saying why a host fits, told to the visitor or to the host (English where untranslated)."""
        translated = self._phrases[self._available(language)].get("criteria", {}).get(audience, {})
        return translated.get(reason.criterion) or reason.sentence(audience)

    def _available(self, language: str) -> str:
        return language if language in self.languages else DEFAULT_LANGUAGE

    def _render(self, mail: str, language: str, **context: Any) -> RenderedMail:
        context = {**context, "language": language, "layout": f"{language}/_layout.html"}
        subject = " ".join(self._env.get_template(f"{language}/{mail}.subject.txt").render(context).split())
        text = self._env.get_template(f"{language}/{mail}.txt").render(context)
        html = self._env.get_template(f"{language}/{mail}.html").render({**context, "subject": subject})
        return RenderedMail(subject=subject, text=text.strip() + "\n", html=html.strip() + "\n", language=language)

    def _visitor_context(self, view: VisitorProposal, language: str) -> dict[str, Any]:
        return {
            "contact_name": view.contact_name,
            "visitor": self._organisation(view.visitor, language),
            "trigger": view.trigger,
            "hosts": [self._proposed_host(host, language) for host in view.hosts],
            "matches_page": view.matches_page,
            "every": _every(view.digest_period_s),
        }

    def _host_context(self, view: HostProposal, language: str) -> dict[str, Any]:
        return {
            "contact_name": view.contact_name,
            "host": self._organisation(view.host.organisation, language),
            "visitor": self._organisation(view.visitor, language),
            "rank": view.host.rank,
            "reasons": self._reasons(view.host.reasons, "host", language),
            "host_page": view.host.page,
        }

    def _proposed_host(self, host: ProposedHost, language: str) -> dict[str, Any]:
        return {
            "organisation": self._organisation(host.organisation, language),
            "rank": host.rank,
            "reasons": self._reasons(host.reasons, "visitor", language),
            "page": host.page,
        }

    def _reasons(self, reasons: tuple[Reason, ...], audience: Audience, language: str) -> list[dict[str, Any]]:
        return [
            {"text": self.reason_text(r, audience, language), "share": r.share, "criterion": r.criterion}
            for r in reasons
        ]

    def _organisation(self, organisation: OrganisationState, language: str) -> dict[str, str]:
        phrases = self._phrases[language]
        kind = OrganisationKind(organisation.kind)
        return {
            "name": organisation.name,
            "kind": phrases.get("organisation_kinds", {}).get(kind.value, kind.label),
            "city": organisation.city,
            "country": phrases.get("countries", {}).get(organisation.country)
            or country_name(organisation.country)
            or organisation.country,
            "website": str(organisation.website),
        }


# The largest unit a period is a whole number of, so a template can say "once a day" or "every 12 hours".
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def _every(period_s: float) -> dict[str, Any]:
    """A period as a count of one unit, for the templates' words (`{"count": 1, "unit": "day"}`)."""
    seconds = max(1, round(period_s))
    unit, size = next((unit, size) for unit, size in _UNITS if seconds % size == 0)
    return {"count": seconds // size, "unit": unit}


def _phrases(folder: Path) -> dict[str, Any]:
    """A language folder's translations of the shared sentences and names; none for English."""
    path = folder / PHRASES
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}
