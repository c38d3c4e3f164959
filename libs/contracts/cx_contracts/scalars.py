"""Scalar wire types with their checks: texts, country and language codes, e-mail, website, dates, UTC times.

Each check raises a `PydanticCustomError` with its own error type, so an HTTP problem document can say
which rule failed, and pydantic's `loc` names the field the type is used in.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, HttpUrl, StringConstraints, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from cx_contracts.vocabulary import COUNTRY_CODE_HINTS, ELIGIBLE_COUNTRIES, country_name, language_name

# Bidirectional embedding, override and isolate controls: invisible, and able to make a text read
# differently from what it contains ("Trojan source"), so no questionnaire answer needs them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SEPARATORS = frozenset("\u2028\u2029")


def _reject_control_characters(value: str, *, multiline: bool) -> None:
    for position, character in enumerate(value):
        if multiline and character in "\n\t":
            continue
        if (
            unicodedata.category(character) == "Cc"
            or character in _BIDI_CONTROLS
            or (not multiline and character in _LINE_SEPARATORS)
        ):
            what = "line breaks or tabs" if character in "\n\r\t\u2028\u2029" else "control characters"
            raise PydanticCustomError(
                "control_character",
                "Text must not contain {what} (found {character} at position {position})",
                {"what": what, "character": f"U+{ord(character):04X}", "position": position},
            )


def _single_line(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    _reject_control_characters(value, multiline=False)
    # Runs of spaces inside a name or tag are typing accidents, and they break equality and search.
    return " ".join(value.split())


def _multiline(value: str) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    _reject_control_characters(value, multiline=True)
    return value


def text_length(min_length: int, max_length: int) -> StringConstraints:
    """Length limits of a text, counted once the whitespace around it is trimmed."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# Written after `text_length` in an Annotated text type, e.g. Annotated[str, text_length(2, 50), SINGLE_LINE]:
SINGLE_LINE = AfterValidator(_single_line)
"""A one-line text: NFC-normalised, inner whitespace collapsed, no control characters."""

MULTILINE = AfterValidator(_multiline)
"""A free text of paragraphs: NFC-normalised, line breaks and tabs allowed, no other control characters."""


def _check_country(value: str) -> str:
    if value in ELIGIBLE_COUNTRIES:
        return value
    upper = value.upper()
    if value != upper and upper in ELIGIBLE_COUNTRIES:
        raise PydanticCustomError(
            "country_code_case",
            "Country codes are upper-case ISO 3166-1 alpha-2: write '{suggestion}', not '{value}'",
            {"suggestion": upper, "value": value},
        )
    if upper in COUNTRY_CODE_HINTS:
        hint = COUNTRY_CODE_HINTS[upper]
        eligible = "" if hint in ELIGIBLE_COUNTRIES else ", which is not an eligible country"
        raise PydanticCustomError(
            "country_code_unknown",
            "'{value}' is not an ISO 3166-1 alpha-2 code; {name} is '{suggestion}'{eligible}",
            {"value": value, "name": country_name(hint) or hint, "suggestion": hint, "eligible": eligible},
        )
    name = country_name(upper)
    if name is None:
        raise PydanticCustomError(
            "country_code_unknown",
            "'{value}' is not an ISO 3166-1 alpha-2 country code (two upper-case letters, such as 'FR')",
            {"value": value},
        )
    raise PydanticCustomError(
        "country_not_eligible",
        "{name} ({value}) is not an eligible country: ClusterXchange is open to organisations registered in "
        "an EU member state or a country associated to the EU's Single Market Programme",
        {"name": name, "value": value},
    )


def _check_language(value: str) -> str:
    if language_name(value) is not None and value.islower():
        return value
    if language_name(value.lower()) is not None:
        raise PydanticCustomError(
            "language_code_case",
            "Language codes are lower-case ISO 639-1: write '{suggestion}', not '{value}'",
            {"suggestion": value.lower(), "value": value},
        )
    raise PydanticCustomError(
        "language_code_unknown",
        "'{value}' is not an ISO 639-1 language code (two lower-case letters, such as 'en' or 'de')",
        {"value": value},
    )


CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_check_country),
    WithJsonSchema({"type": "string", "enum": sorted(ELIGIBLE_COUNTRIES)}),
]
"""ISO 3166-1 alpha-2 code of an eligible country (EU-27 and SMP-associated countries, Kosovo as XK)."""

LanguageCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_check_language),
    WithJsonSchema({"type": "string", "pattern": "^[a-z]{2}$"}),
]
"""ISO 639-1 language code, lower case."""


MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit, minus the angle brackets


def _check_email(value: str) -> str:
    # email-validator knows the RFCs (dot-atoms, IDNA, length limits); no DNS look-up at input time.
    try:
        checked = validate_email(
            value, check_deliverability=False, allow_quoted_local=False, allow_domain_literal=False
        )
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "email", "'{value}' is not a valid e-mail address: {problem}", {"value": value, "problem": str(error)}
        ) from None
    return checked.normalized


EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_EMAIL_LENGTH),
    AfterValidator(_check_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_EMAIL_LENGTH}),
]
"""An e-mail address of the common form local@domain.tld (no quoted local parts, no IP literals)."""


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
MAX_URL_LENGTH = 2048


def _check_website(value: str) -> str:
    if "://" not in value:
        raise PydanticCustomError(
            "website", "'{value}' is not a web address: start it with https://, as in https://{value}", {"value": value}
        )
    try:
        url = _HTTP_URL.validate_python(value)
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise PydanticCustomError(
            "website", "'{value}' is not an http or https web address: {reason}", {"value": value, "reason": reason}
        ) from None
    host = url.host or ""
    if url.username or url.password:
        raise PydanticCustomError("website", "A website address must not contain a user name or password", {})
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise PydanticCustomError("website", "A website address names a host, not an IP address", {})
    if "." not in host:
        raise PydanticCustomError(
            "website", "'{host}' is not a public host name (expected something like www.example.eu)", {"host": host}
        )
    return str(url)


WebsiteUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH),
    AfterValidator(_check_website),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": MAX_URL_LENGTH}),
]
"""An http(s) address of a public website, kept in pydantic's normalised form (https://host/path)."""


EARLIEST_DATE = date(2020, 1, 1)  # the scheme started in 2020
LATEST_DATE = date(2100, 12, 31)


def _check_plausible_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            "Date {value} is outside the range the scheme can use ({earliest} to {latest})",
            {"value": value.isoformat(), "earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
    return value


SchemeDate = Annotated[date, AfterValidator(_check_plausible_date)]
"""A calendar date (ISO 8601, YYYY-MM-DD) between 2020 and 2100."""


def _to_utc(value: datetime) -> datetime:
    # Timestamps on the wire are UTC (DESIGN.md); a naive one is read as UTC rather than refused, so an
    # event from a careless producer is still consumed, and its meaning is the documented one.
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
"""An instant, always held in UTC: an offset is converted, a naive value is read as UTC."""


def utc_now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)
