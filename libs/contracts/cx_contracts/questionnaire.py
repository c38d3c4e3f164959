"""The questionnaire hosts and visitors answer: organisation, contact, date ranges, host and visitor answers.

Each model comes in two strictnesses, sharing fields and rules:

- the plain name (`Organisation`, `DateRange`, `HostAnswers`, `VisitorAnswers`) rejects unknown fields:
  it is what people send over HTTP, where a misspelt field must not pass silently;
- its `...State` base ignores unknown fields: it is what events and read models carry, read tolerantly so
  that an additive change does not break an older consumer.

A plain model is an instance of its `...State` base, so validated HTTP input goes straight into an event.
`Contact` has only the strict form: it is personal data and never travels in an event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cx_contracts.scalars import (
    MULTILINE,
    SINGLE_LINE,
    CountryCode,
    EmailAddress,
    LanguageCode,
    SchemeDate,
    WebsiteUrl,
    text_length,
)
from cx_contracts.vocabulary import (
    ELIGIBLE_COUNTRIES,
    MAX_EXCHANGE_DAYS,
    MIN_EXCHANGE_DAYS,
    Activity,
    Ecosystem,
    ExchangeFormat,
    OrganisationKind,
    Topic,
)

MAX_ECOSYSTEMS = 3
MAX_LANGUAGES = 12
MAX_KEYWORDS = 20
MAX_AVAILABILITY_RANGES = 24
# Longest single date range: two years covers "available all of next year and the one after", anything
# longer is a typo in a year.
MAX_DATE_RANGE_DAYS = 731
MAX_CAPACITY = 20
MAX_PARTICIPANTS = 10
MAX_PREFERRED_COUNTRIES = 10
MIN_FREE_TEXT = 40
MAX_FREE_TEXT = 4000

OrganisationName = Annotated[str, text_length(2, 200), SINGLE_LINE]
CityName = Annotated[str, text_length(1, 100), SINGLE_LINE]  # "Å" is a town in Norway
PersonName = Annotated[str, text_length(2, 120), SINGLE_LINE]
Keyword = Annotated[str, text_length(2, 50), SINGLE_LINE]
FreeText = Annotated[str, text_length(MIN_FREE_TEXT, MAX_FREE_TEXT), MULTILINE]
ExchangeDays = Annotated[int, Field(strict=True, ge=MIN_EXCHANGE_DAYS, le=MAX_EXCHANGE_DAYS)]

# A strict model handed to a field typed with its tolerant base is re-validated into the base, so an event
# built from HTTP input equals the same event read back from Kafka.
TOLERANT = ConfigDict(extra="ignore", frozen=True, revalidate_instances="subclass-instances")
STRICT = ConfigDict(extra="forbid", frozen=True)


def working_days(start: date, end: date) -> int:
    """Number of Monday-to-Friday days from `start` to `end`, both included (no holiday calendar)."""
    if end < start:
        return 0
    total = (end - start).days + 1
    full_weeks, remainder = divmod(total, 7)
    first_weekday = start.weekday()  # Monday is 0
    extra = sum(1 for offset in range(remainder) if (first_weekday + offset) % 7 < 5)
    return full_weeks * 5 + extra


def _reject_duplicates(values: Iterable[Any], *, key: Any = None) -> None:
    values = list(values)
    counts = Counter(key(value) if key else value for value in values)
    repeated = [str(value) for value, count in counts.items() if count > 1]
    if repeated:
        raise PydanticCustomError(
            "duplicate_items",
            "List each value once; repeated: {repeated}",
            {"repeated": ", ".join(sorted(repeated))},
        )


def _unique(description: str, *, min_length: int = 0, max_length: int, default: Any = ...) -> Any:
    """A list field whose items must be unique (checked by the model's validators, shown in the schema)."""
    return Field(
        default,
        min_length=min_length,
        max_length=max_length,
        description=description,
        json_schema_extra={"uniqueItems": True},
    )


# ---------------------------------------------------------------------------------------------------------
# Organisation and contact
# ---------------------------------------------------------------------------------------------------------


class OrganisationState(BaseModel):
    """The organisation behind a catalogue entry or an application, as events and read models carry it."""

    model_config = TOLERANT

    name: OrganisationName = Field(
        description="Registered name of the organisation, as partnerships will see it (2-200 characters)."
    )
    kind: OrganisationKind = Field(description="What kind of organisation this is.")
    country: CountryCode = Field(
        description="Country where the organisation is registered: ISO 3166-1 alpha-2, upper case; EU-27 or a "
        "country associated to the Single Market Programme (Kosovo is XK)."
    )
    city: CityName = Field(description="City or town of the registered office (1-100 characters).")
    website: WebsiteUrl = Field(description="Public website, an http or https address.")


class Organisation(OrganisationState):
    """The organisation behind a catalogue entry or an application, as its owner submits it."""

    model_config = STRICT


class Contact(BaseModel):
    """The person who answers for the organisation. Personal data: kept by the owning service, never in events."""

    model_config = STRICT

    name: PersonName = Field(description="Full name of the contact person (2-120 characters).")
    email: EmailAddress = Field(description="Work e-mail address of the contact person.")


# ---------------------------------------------------------------------------------------------------------
# Date ranges
# ---------------------------------------------------------------------------------------------------------


class DateRangeState(BaseModel):
    """A span of calendar days, both ends included."""

    model_config = TOLERANT

    start: SchemeDate = Field(description="First day, ISO 8601 (YYYY-MM-DD), included.")
    end: SchemeDate = Field(
        description=f"Last day, ISO 8601 (YYYY-MM-DD), included; on or after `start`, at most "
        f"{MAX_DATE_RANGE_DAYS} days later."
    )

    @field_validator("end")
    @classmethod
    def _end_follows_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is None:
            return end
        if end < start:
            raise PydanticCustomError(
                "date_range_reversed",
                "The range ends ({end}) before it starts ({start})",
                {"start": start.isoformat(), "end": end.isoformat()},
            )
        if (end - start).days > MAX_DATE_RANGE_DAYS:
            raise PydanticCustomError(
                "date_range_too_long",
                "The range spans {days} days; at most {limit} are allowed",
                {"days": (end - start).days, "limit": MAX_DATE_RANGE_DAYS},
            )
        return end

    @property
    def working_days(self) -> int:
        """Monday-to-Friday days in the range."""
        return working_days(self.start, self.end)

    def overlap(self, other: DateRangeState) -> DateRangeState | None:
        """The days both ranges share, or None."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return DateRangeState(start=start, end=end) if start <= end else None

    def days(self) -> Iterable[date]:
        """Every calendar day in the range."""
        for offset in range((self.end - self.start).days + 1):
            yield self.start + timedelta(days=offset)


class DateRange(DateRangeState):
    """A span of calendar days, both ends included, as a person submits it."""

    model_config = STRICT


# ---------------------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------------------

_KEYWORDS = f"Free tags (up to {MAX_KEYWORDS}, 2-50 characters each, each once regardless of case)."


def _too_few_working_days(error_type: str, message: str, period: DateRangeState, **context: Any) -> PydanticCustomError:
    """The error of a date range too short for an exchange; `message` may name its start, end and count."""
    span = {"start": period.start.isoformat(), "end": period.end.isoformat(), "count": period.working_days}
    return PydanticCustomError(error_type, message, {**context, **span})


def _activities(who: str) -> Any:
    return _unique(f"Activities {who}: at least one, each once.", min_length=1, max_length=len(Activity))


def _languages(who: str) -> Any:
    return _unique(f"Languages {who}: ISO 639-1 codes (lower case), each once.", min_length=1, max_length=MAX_LANGUAGES)


def _formats(who: str) -> Any:
    return _unique(
        f"Formats {who}: physical and/or virtual: physical exchanges get a grant, virtual ones none.",
        min_length=1,
        max_length=len(ExchangeFormat),
    )


def _availability_field() -> Any:
    return Field(
        default_factory=list,
        max_length=MAX_AVAILABILITY_RANGES,
        description=f"Date ranges when the host can receive visitors (up to {MAX_AVAILABILITY_RANGES}), each "
        f"long enough for a {MIN_EXCHANGE_DAYS}-working-day exchange; empty means any time.",
    )


def _travel_window_field() -> Any:
    return Field(
        default=None,
        description="When the visitor can travel or hold the exchange; it must contain at least `days` working "
        "days (Monday to Friday). Absent means any time.",
    )


class _SharedAnswers(BaseModel):
    """What both questionnaires ask first, and the rules they share."""

    ecosystems: list[Ecosystem] = _unique(
        f"1 to {MAX_ECOSYSTEMS} of the 14 EU industrial ecosystems, each once.", min_length=1, max_length=MAX_ECOSYSTEMS
    )
    topics: list[Topic] = _unique(
        "What the exchange is about: at least one topic, each once.", min_length=1, max_length=len(Topic)
    )

    @field_validator(
        "ecosystems",
        "topics",
        "activities",
        "languages",
        "formats",
        "preferred_countries",
        "excluded_countries",
        check_fields=False,
    )
    @classmethod
    def _each_once(cls, values: list[Any]) -> list[Any]:
        _reject_duplicates(values)
        return values

    @field_validator("keywords", check_fields=False)
    @classmethod
    def _each_keyword_once(cls, values: list[str]) -> list[str]:
        _reject_duplicates(values, key=str.casefold)
        return values


class HostAnswersState(_SharedAnswers):
    """A host's answers (its catalogue entry), as events and read models carry them."""

    model_config = TOLERANT

    activities: list[Activity] = _activities("the host offers visitors")
    languages: list[LanguageCode] = _languages("the exchange can be held in")
    formats: list[ExchangeFormat] = _formats("the host offers")
    expertise: FreeText = Field(
        description=f"What a visitor can learn here, in the host's words ({MIN_FREE_TEXT}-{MAX_FREE_TEXT} "
        "characters; line breaks allowed). The main input of semantic matching."
    )
    keywords: list[Keyword] = _unique(_KEYWORDS, max_length=MAX_KEYWORDS, default=[])
    availability: list[DateRangeState] = _availability_field()
    max_days: ExchangeDays = Field(
        description=f"Longest exchange the host accepts, in working days (travel excluded): "
        f"{MIN_EXCHANGE_DAYS} to {MAX_EXCHANGE_DAYS}, the scheme's 3 days to one month."
    )
    capacity: int = Field(
        strict=True,
        ge=1,
        le=MAX_CAPACITY,
        description=f"The most visiting participants the host can receive at the same time (1-{MAX_CAPACITY}); "
        "a visitor bringing more is not proposed.",
    )

    @field_validator("availability")
    @classmethod
    def _ranges_fit_an_exchange(cls, ranges: list[DateRangeState]) -> list[DateRangeState]:
        for index, period in enumerate(ranges):
            if period.working_days < MIN_EXCHANGE_DAYS:
                raise _too_few_working_days(
                    "availability_too_short",
                    "Availability range {index} ({start} to {end}) has {count} working days; an exchange "
                    "needs at least {minimum}",
                    period,
                    index=index,
                    minimum=MIN_EXCHANGE_DAYS,
                )
        return ranges


class HostAnswers(HostAnswersState):
    """A host's answers (its catalogue entry), as the host submits them."""

    model_config = STRICT

    # The strict form narrows the items to DateRange. mypy sees a list as writable, hence invariant; these
    # models are frozen, so nothing can put a tolerant DateRangeState into a host's strict answers.
    availability: list[DateRange] = _availability_field()  # type: ignore[assignment]


class VisitorAnswersState(_SharedAnswers):
    """A visitor's answers (its application), as events and read models carry them."""

    model_config = TOLERANT

    activities: list[Activity] = _activities("the visitor wants")
    languages: list[LanguageCode] = _languages("the visitors speak")
    formats: list[ExchangeFormat] = _formats("the visitor accepts")
    keywords: list[Keyword] = _unique(_KEYWORDS, max_length=MAX_KEYWORDS, default=[])
    goals: FreeText = Field(
        description=f"What the visitor wants to learn, in its own words ({MIN_FREE_TEXT}-{MAX_FREE_TEXT} "
        "characters; line breaks allowed). Matched against hosts' expertise."
    )
    preferred_countries: list[CountryCode] = _unique(
        f"Host countries the visitor would prefer (up to {MAX_PREFERRED_COUNTRIES}, each once); a preference, "
        "not a filter.",
        max_length=MAX_PREFERRED_COUNTRIES,
        default=[],
    )
    excluded_countries: list[CountryCode] = _unique(
        "Host countries the visitor rules out, each once; none may also be preferred.",
        max_length=len(ELIGIBLE_COUNTRIES),
        default=[],
    )
    days: ExchangeDays = Field(
        description=f"Length of the exchange wanted, in working days (travel excluded): {MIN_EXCHANGE_DAYS} "
        f"to {MAX_EXCHANGE_DAYS}, the scheme's 3 days to one month."
    )
    travel_window: DateRangeState | None = _travel_window_field()
    participants: int = Field(
        strict=True,
        ge=1,
        le=MAX_PARTICIPANTS,
        description=f"How many people of the visiting organisation take part (1-{MAX_PARTICIPANTS}).",
    )

    @field_validator("excluded_countries")
    @classmethod
    def _excluded_not_preferred(cls, excluded: list[str], info: ValidationInfo) -> list[str]:
        both = sorted(set(excluded) & set(info.data.get("preferred_countries") or ()))
        if both:
            raise PydanticCustomError(
                "country_preferred_and_excluded",
                "A country cannot be both preferred and excluded: {countries}",
                {"countries": ", ".join(both)},
            )
        return excluded

    @field_validator("travel_window")
    @classmethod
    def _window_holds_the_exchange(cls, window: DateRangeState | None, info: ValidationInfo) -> Any:
        days = info.data.get("days")
        if window is None or days is None:
            return window
        if window.working_days < days:
            raise _too_few_working_days(
                "travel_window_too_short",
                "The travel window {start} to {end} holds {count} working days, fewer than the {days} "
                "working days asked for",
                window,
                days=days,
            )
        return window


class VisitorAnswers(VisitorAnswersState):
    """A visitor's answers (its application), as the visitor submits them."""

    model_config = STRICT

    travel_window: DateRange | None = _travel_window_field()
