"""What a visitor can ask the public catalogue: filters, free text, and a page.

Within one filter the values are alternatives (ecosystem=digital&ecosystem=health: either); different
filters must all hold. Every word of the free text must occur in the host's expertise or keywords,
ignoring case. Unknown parameters are refused, so a misspelt filter is not silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from cx_contracts.api import PageQuery
from cx_contracts.questionnaire import MAX_LANGUAGES
from cx_contracts.scalars import SINGLE_LINE, CountryCode, LanguageCode, text_length
from cx_contracts.vocabulary import ELIGIBLE_COUNTRIES, Ecosystem, ExchangeFormat, Topic

from cx_catalogue.domain.host_entry import searchable

MAX_QUERY_LENGTH = 200
MAX_QUERY_WORDS = 10

QueryText = Annotated[str, text_length(0, MAX_QUERY_LENGTH), SINGLE_LINE]


class CatalogueQuery(PageQuery):
    """Query parameters of GET /api/catalogue/hosts: the filters, and the page."""

    ecosystem: list[Ecosystem] = Field(
        default_factory=list, max_length=len(Ecosystem), description="Hosts in any of these ecosystems (repeatable)."
    )
    country: list[CountryCode] = Field(
        default_factory=list,
        max_length=len(ELIGIBLE_COUNTRIES),
        description="Hosts registered in any of these countries, ISO 3166-1 alpha-2 (repeatable).",
    )
    language: list[LanguageCode] = Field(
        default_factory=list,
        max_length=MAX_LANGUAGES,
        description="Hosts that can hold the exchange in any of these languages, ISO 639-1 (repeatable).",
    )
    format: list[ExchangeFormat] = Field(
        default_factory=list, max_length=len(ExchangeFormat), description="Hosts offering any of these formats."
    )
    topic: list[Topic] = Field(
        default_factory=list, max_length=len(Topic), description="Hosts working on any of these topics (repeatable)."
    )
    q: QueryText | None = Field(
        default=None,
        description=f"Free text: every word must occur in the host's expertise or keywords, ignoring case (up to "
        f"{MAX_QUERY_WORDS} words, {MAX_QUERY_LENGTH} characters).",
    )

    @field_validator("q")
    @classmethod
    def _few_enough_words(cls, text: str | None) -> str | None:
        if text is not None and len(text.split()) > MAX_QUERY_WORDS:
            raise PydanticCustomError("too_many_words", "Search with at most {limit} words", {"limit": MAX_QUERY_WORDS})
        return text or None

    @property
    def words(self) -> list[str]:
        """The free-text words in search form, each once, in the order given."""
        return list(dict.fromkeys(searchable(word) for word in (self.q or "").split()))
