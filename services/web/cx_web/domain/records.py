"""What the pages show of a host entry, an application and its ranked hosts, from the API's documents.

Names in words (country, kind, ecosystems), the reasons of a match in the same sentences the e-mails use
(cx_contracts.explanation), and nothing the document does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cx_contracts.explanation import Audience, reasons
from cx_contracts.vocabulary import (
    Activity,
    Ecosystem,
    ExchangeFormat,
    OrganisationKind,
    Topic,
    country_name,
    language_name,
)

_LABELS: dict[str, Any] = {
    "ecosystems": Ecosystem,
    "topics": Topic,
    "activities": Activity,
    "formats": ExchangeFormat,
}


def host_page(host_id: str) -> str:
    """A host's public page: the URL the e-mails link to."""
    return f"/catalogue/hosts/{host_id}"


def application_page(application_id: str) -> str:
    """A visitor's application page."""
    return f"/applications/{application_id}"


def country_label(code: str) -> str:
    """A country in words."""
    return country_name(code) or code


def labels(field: str, values: Sequence[str]) -> list[str]:
    """The words for the values of a closed list (ecosystems, topics, activities, formats, languages, countries)."""
    if field in _LABELS:
        vocabulary = _LABELS[field]
        return [vocabulary(value).label if value in vocabulary._value2member_map_ else value for value in values]
    if field == "languages":
        return [language_name(code) or code for code in values]
    if field.endswith("countries"):
        return [country_label(code) for code in values]
    return list(values)


@dataclass(frozen=True)
class OrganisationView:
    """An organisation in words."""

    name: str
    kind: str
    city: str
    country: str
    website: str

    @classmethod
    def of(cls, organisation: Mapping[str, Any]) -> OrganisationView:
        """The organisation of an API document."""
        kind = organisation.get("kind", "")
        return cls(
            name=str(organisation.get("name", "")),
            kind=OrganisationKind(kind).label if kind in OrganisationKind._value2member_map_ else str(kind),
            city=str(organisation.get("city", "")),
            country=country_label(str(organisation.get("country", ""))),
            website=str(organisation.get("website", "")),
        )


@dataclass(frozen=True)
class ReasonView:
    """One reason a host fits, as the e-mail says it."""

    sentence: str
    share: int


@dataclass(frozen=True)
class ProposedHost:
    """One ranked host on an application's page."""

    host_id: str
    rank: int
    organisation: OrganisationView
    reasons: tuple[ReasonView, ...]
    page: str


@dataclass(frozen=True)
class RankedHosts:
    """An application's latest proposals: pending until the matcher reports, then the ranked hosts."""

    status: str
    hosts: tuple[ProposedHost, ...]
    computed_at: datetime | None = None
    match_run_id: str | None = None

    @property
    def version(self) -> str:
        """What tells two states of the proposals apart (the page swaps in a new one only when it changed)."""
        return f"{self.status}:{self.match_run_id or ''}:{len(self.hosts)}"

    @property
    def pending(self) -> bool:
        """No matching run has reported yet."""
        return self.status == "pending"


def reason_views(explanation: Mapping[str, float], audience: Audience = "visitor") -> tuple[ReasonView, ...]:
    """Why a host fits, biggest contribution first, in the e-mails' words."""
    return tuple(ReasonView(reason.sentence(audience), reason.share) for reason in reasons(explanation))


def ranked_hosts(matches: Mapping[str, Any], hosts: Mapping[str, Mapping[str, Any] | None]) -> RankedHosts:
    """The proposals of an application's matches document, named from the hosts' public entries.

    A host that left the catalogue since the run (no entry) is left out, as the e-mails leave it out.
    """
    proposed = []
    for match in sorted(matches.get("matches", []), key=lambda m: m["rank"]):
        host = hosts.get(str(match["host_id"]))
        if host is None:
            continue
        proposed.append(
            ProposedHost(
                host_id=str(match["host_id"]),
                rank=int(match["rank"]),
                organisation=OrganisationView.of(host.get("organisation", {})),
                reasons=reason_views(match.get("explanation", {})),
                page=host_page(str(match["host_id"])),
            )
        )
    computed = matches.get("computed_at")
    return RankedHosts(
        status=str(matches.get("status", "pending")),
        hosts=tuple(proposed),
        computed_at=datetime.fromisoformat(computed) if isinstance(computed, str) else None,
        match_run_id=str(matches["match_run_id"]) if matches.get("match_run_id") else None,
    )
