"""The public catalogue's filter form: what a visitor can ask, the API query it becomes, and the pages.

The filter names are the API's own query parameters (GET /api/catalogue/hosts), so the page's URL and
the API's agree and the API's 422 names the filter at fault.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from cx_contracts.vocabulary import Ecosystem, ExchangeFormat, Topic, language_name

from cx_web.domain.questionnaire_form import Choice, FormField, Widget, country_choices

PAGE_SIZE = 10
# The languages of the eligible countries, in their ISO 639-1 codes: what a visitor filters on. A host may
# name any other language; the API's `language` takes any code.
SCHEME_LANGUAGES = (
    "bg cs da de el en es et fi fr ga hr hu is it lt lv mk mt nl no pl pt ro sk sl sq sr sv tr uk".split()
)


def language_choices() -> tuple[Choice, ...]:
    """The scheme's languages by their English name."""
    return tuple(
        sorted((Choice(code, language_name(code) or code) for code in SCHEME_LANGUAGES), key=lambda c: c.label)
    )


FILTERS = (
    FormField("q", "Words in the expertise or keywords", Widget.TEXT, "Every word must occur.", optional=True),
    FormField(
        "ecosystem",
        "Industrial ecosystem",
        Widget.CHECKBOXES,
        choices=tuple(Choice(e.value, e.label) for e in Ecosystem),
        optional=True,
    ),
    FormField(
        "topic", "Topic", Widget.CHECKBOXES, choices=tuple(Choice(t.value, t.label) for t in Topic), optional=True
    ),
    FormField("country", "Country", Widget.SELECT, choices=country_choices(), optional=True),
    FormField("language", "Language", Widget.SELECT, choices=language_choices(), optional=True),
    FormField(
        "format",
        "Format",
        Widget.CHECKBOXES,
        choices=tuple(Choice(f.value, f.label) for f in ExchangeFormat),
        optional=True,
    ),
)
FILTER_NAMES = tuple(f.name for f in FILTERS)


@dataclass(frozen=True)
class CatalogueSearch:
    """What the catalogue page was asked: the filter values and the page."""

    filters: dict[str, list[str]]
    page: str

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> CatalogueSearch:
        """The search in a page's query string; unknown parameters are dropped, empty values too."""
        filters = {name: [v.strip() for v in query.get(name, ()) if v.strip()] for name in FILTER_NAMES}
        return cls(
            {name: values for name, values in filters.items() if values}, (list(query.get("page", ())) or ["1"])[0]
        )

    def api_query(self) -> list[tuple[str, str]]:
        """The query of GET /api/catalogue/hosts: the same names, a page of PAGE_SIZE entries."""
        pairs = [(name, value) for name, values in self.filters.items() for value in values]
        return [*pairs, ("page", self.page), ("page_size", str(PAGE_SIZE))]

    def page_url(self, page: int) -> str:
        """The catalogue page's URL for another page of the same search."""
        pairs = [(name, value) for name, values in self.filters.items() for value in values]
        return "/catalogue?" + urlencode([*pairs, ("page", str(page))])

    @property
    def is_filtered(self) -> bool:
        """Whether any filter is set."""
        return bool(self.filters)


@dataclass(frozen=True)
class Paging:
    """Where a page of results sits among all of them."""

    page: int
    pages: int
    total: int
    first: int  # the 1-based position of the page's first entry
    last: int
    previous_url: str | None
    next_url: str | None


def paging(search: CatalogueSearch, *, total: int, page: int, page_size: int, shown: int) -> Paging:
    """The paging of a catalogue page that shows `shown` of `total` entries."""
    pages = max(1, math.ceil(total / page_size))
    first = (page - 1) * page_size + 1 if shown else 0
    return Paging(
        page=page,
        pages=pages,
        total=total,
        first=first,
        last=first + shown - 1 if shown else 0,
        previous_url=search.page_url(page - 1) if page > 1 else None,
        next_url=search.page_url(page + 1) if page < pages else None,
    )
