"""Every invalid HTTP document is rejected, and pydantic's loc names the field at fault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cx_contracts import examples
from cx_contracts.api import ApplicationCreate, ApplicationUpdate, HostEntryCreate, HostEntryUpdate

pytestmark = pytest.mark.unit

DELETE = object()


@dataclass(frozen=True)
class Case:
    """One bad document: which model, which path gets which value, where the error must point."""

    id: str
    model: type[BaseModel]
    path: tuple[str | int, ...]
    value: Any
    loc: tuple[str | int, ...] | None = None  # defaults to path
    error_type: str | None = None
    example: int = 0

    def payload(self) -> dict[str, Any]:
        """The example document of the model with the change applied."""
        if self.model in (HostEntryCreate, HostEntryUpdate):
            document = examples.host_entry_payload(self.example)
        else:
            document = examples.application_payload(self.example)
        if self.model in (HostEntryUpdate, ApplicationUpdate):
            document = {"answers": document["answers"]}
        target: Any = document
        for step in self.path[:-1]:
            target = target[step]
        if self.value is DELETE:
            del target[self.path[-1]]
        else:
            target[self.path[-1]] = self.value
        return document


H, A = HostEntryCreate, ApplicationCreate
ORG, CONTACT, ANS = "organisation", "contact", "answers"
DAY_RANGE = {"start": "2027-03-01", "end": "2027-03-31"}

CASES = [
    # The organisation
    Case("organisation name empty", H, (ORG, "name"), "", error_type="string_too_short"),
    Case("organisation name only spaces", H, (ORG, "name"), "    ", error_type="string_too_short"),
    Case("organisation name too long", H, (ORG, "name"), "Cluster " * 30, error_type="string_too_long"),
    Case("organisation name with a NUL", H, (ORG, "name"), "Cluster\x00Nord", error_type="control_character"),
    Case("organisation name with a line break", H, (ORG, "name"), "Cluster\nNord", error_type="control_character"),
    Case(
        "organisation name with a bidi override", H, (ORG, "name"), "Cluster\u202eNord", error_type="control_character"
    ),
    Case("organisation name a number", H, (ORG, "name"), 42, error_type="string_type"),
    Case("organisation kind unknown", H, (ORG, "kind"), "university", error_type="enum"),
    Case("organisation kind missing", H, (ORG, "kind"), DELETE, error_type="missing"),
    Case("country lower case", H, (ORG, "country"), "de", error_type="country_code_case"),
    Case("country United States", H, (ORG, "country"), "US", error_type="country_not_eligible"),
    Case("country United Kingdom", H, (ORG, "country"), "GB", error_type="country_not_eligible"),
    Case("country Switzerland", H, (ORG, "country"), "CH", error_type="country_not_eligible"),
    Case("country UK is not ISO", H, (ORG, "country"), "UK", error_type="country_code_unknown"),
    Case("country EL is not ISO", H, (ORG, "country"), "EL", error_type="country_code_unknown"),
    Case("country unknown code", H, (ORG, "country"), "ZZ", error_type="country_code_unknown"),
    Case("country alpha-3", H, (ORG, "country"), "DEU", error_type="country_code_unknown"),
    Case("country empty", H, (ORG, "country"), "", error_type="country_code_unknown"),
    Case("city empty", H, (ORG, "city"), " ", error_type="string_too_short"),
    Case("city with a tab", H, (ORG, "city"), "Old\tenburg", error_type="control_character"),
    Case("website without scheme", H, (ORG, "website"), "www.nordwest-agrifood.example", error_type="website"),
    Case("website ftp", H, (ORG, "website"), "ftp://nordwest-agrifood.example/", error_type="website"),
    Case("website localhost", H, (ORG, "website"), "https://localhost/", error_type="website"),
    Case("website IP address", H, (ORG, "website"), "https://192.168.10.4/", error_type="website"),
    Case(
        "website with credentials", H, (ORG, "website"), "https://admin:secret@cluster.example/", error_type="website"
    ),
    Case("website not a URL", H, (ORG, "website"), "our website", error_type="website"),
    Case("organisation unknown field", H, (ORG, "vat_number"), "DE123456789", error_type="extra_forbidden"),
    # The contact
    Case("email without at", H, (CONTACT, "email"), "hanna.nordwest-agrifood.example", error_type="email"),
    Case("email with two ats", H, (CONTACT, "email"), "hanna@team@nordwest.example", error_type="email"),
    Case("email without dot in domain", H, (CONTACT, "email"), "hanna@localhost", error_type="email"),
    Case("email with double dot", H, (CONTACT, "email"), "hanna..b@nordwest.example", error_type="email"),
    Case("email with a numeric tld", H, (CONTACT, "email"), "hanna@nordwest.123", error_type="email"),
    Case("email with a space", H, (CONTACT, "email"), "hanna b@nordwest.example", error_type="email"),
    Case("email with a display name", H, (CONTACT, "email"), "Hanna <hanna@nordwest.example>", error_type="email"),
    Case("email empty", H, (CONTACT, "email"), "", error_type="string_too_short"),
    Case("contact name empty", H, (CONTACT, "name"), "", error_type="string_too_short"),
    Case("contact missing", H, (CONTACT,), DELETE, error_type="missing"),
    Case("contact unknown field", H, (CONTACT, "phone"), "+49 441 000000", error_type="extra_forbidden"),
    # The document
    Case("document unknown field", H, ("website",), "https://x.example/", error_type="extra_forbidden"),
    Case("client sets host_id", H, ("host_id",), "6c1d7c36-1c0e-4a8e-9d59-1f1b8f0e7a11", error_type="extra_forbidden"),
    Case("client sets revision", H, ("revision",), 7, error_type="extra_forbidden"),
    # Host answers
    Case("no ecosystem", H, (ANS, "ecosystems"), [], error_type="too_short"),
    Case("four ecosystems", H, (ANS, "ecosystems"), ["digital", "health", "retail", "textile"], error_type="too_long"),
    Case("ecosystem twice", H, (ANS, "ecosystems"), ["digital", "digital"], error_type="duplicate_items"),
    Case("ecosystem unknown", H, (ANS, "ecosystems", 1), "space", error_type="enum"),
    Case("ecosystems a string", H, (ANS, "ecosystems"), "digital", error_type="list_type"),
    Case("no topic", H, (ANS, "topics"), [], error_type="too_short"),
    Case("topic unknown", H, (ANS, "topics", 0), "blockchain", error_type="enum"),
    Case("topic twice", H, (ANS, "topics"), ["green_transition", "green_transition"], error_type="duplicate_items"),
    Case("no activity offered", H, (ANS, "activities"), [], error_type="too_short"),
    Case("activity unknown", H, (ANS, "activities", 0), "parties", error_type="enum"),
    Case("no language", H, (ANS, "languages"), [], error_type="too_short"),
    Case("language upper case", H, (ANS, "languages", 0), "DE", error_type="language_code_case"),
    Case("language three letters", H, (ANS, "languages", 1), "eng", error_type="language_code_unknown"),
    Case("language unknown", H, (ANS, "languages", 0), "xx", error_type="language_code_unknown"),
    Case("language locale", H, (ANS, "languages", 0), "en-GB", error_type="language_code_unknown"),
    Case("language twice", H, (ANS, "languages"), ["en", "en"], error_type="duplicate_items"),
    Case("no format", H, (ANS, "formats"), [], error_type="too_short"),
    Case("format hybrid", H, (ANS, "formats", 0), "hybrid", error_type="enum"),
    Case("format twice", H, (ANS, "formats"), ["virtual", "virtual"], error_type="duplicate_items"),
    Case("expertise empty", H, (ANS, "expertise"), "", error_type="string_too_short"),
    Case("expertise whitespace", H, (ANS, "expertise"), "  \n\t \n  ", error_type="string_too_short"),
    Case("expertise too short", H, (ANS, "expertise"), "We do clusters.", error_type="string_too_short"),
    Case("expertise too long", H, (ANS, "expertise"), "Precision farming. " * 220, error_type="string_too_long"),
    Case(
        "expertise with a bell",
        H,
        (ANS, "expertise"),
        "We run a living lab\x07 for precision farming and data.",
        error_type="control_character",
    ),
    Case("expertise missing", H, (ANS, "expertise"), DELETE, error_type="missing"),
    Case("too many keywords", H, (ANS, "keywords"), [f"keyword {n}" for n in range(21)], error_type="too_long"),
    Case("keyword too long", H, (ANS, "keywords", 0), "k" * 51, error_type="string_too_long"),
    Case("keyword one letter", H, (ANS, "keywords", 1), "a", error_type="string_too_short"),
    Case(
        "keyword twice ignoring case", H, (ANS, "keywords"), ["Living Lab", "living lab"], error_type="duplicate_items"
    ),
    Case("keyword with a line break", H, (ANS, "keywords", 0), "living\nlab", error_type="control_character"),
    Case(
        "availability reversed",
        H,
        (ANS, "availability", 0),
        {"start": "2027-05-10", "end": "2027-05-01"},
        loc=(ANS, "availability", 0, "end"),
        error_type="date_range_reversed",
    ),
    Case(
        "availability over two years",
        H,
        (ANS, "availability", 0),
        {"start": "2027-01-01", "end": "2030-01-01"},
        loc=(ANS, "availability", 0, "end"),
        error_type="date_range_too_long",
    ),
    Case(
        "availability only a weekend",
        H,
        (ANS, "availability"),
        [{"start": "2027-03-06", "end": "2027-03-07"}],
        error_type="availability_too_short",
    ),
    Case(
        "availability impossible date",
        H,
        (ANS, "availability", 0, "start"),
        "2027-02-30",
        error_type="date_from_datetime_parsing",
    ),
    Case("availability in 1999", H, (ANS, "availability", 0, "start"), "1999-03-01", error_type="date_out_of_range"),
    Case(
        "availability unknown field", H, (ANS, "availability", 0, "note"), "mornings only", error_type="extra_forbidden"
    ),
    Case("availability a string", H, (ANS, "availability"), "spring 2027", error_type="list_type"),
    Case("max days 2", H, (ANS, "max_days"), 2, error_type="greater_than_equal"),
    Case("max days 23", H, (ANS, "max_days"), 23, error_type="less_than_equal"),
    Case("max days as text", H, (ANS, "max_days"), "10", error_type="int_type"),
    Case("max days a fraction", H, (ANS, "max_days"), 5.5, error_type="int_type"),
    Case("capacity 0", H, (ANS, "capacity"), 0, error_type="greater_than_equal"),
    Case("capacity negative", H, (ANS, "capacity"), -3, error_type="greater_than_equal"),
    Case("capacity 21", H, (ANS, "capacity"), 21, error_type="less_than_equal"),
    Case("capacity a boolean", H, (ANS, "capacity"), True, error_type="int_type"),
    Case("host answers unknown field", H, (ANS, "colour"), "blue", error_type="extra_forbidden"),
    # Visitor answers
    Case("days 2", A, (ANS, "days"), 2, error_type="greater_than_equal"),
    Case("days 23", A, (ANS, "days"), 23, error_type="less_than_equal"),
    Case("days missing", A, (ANS, "days"), DELETE, error_type="missing"),
    Case("days null", A, (ANS, "days"), None, error_type="int_type"),
    Case("participants 0", A, (ANS, "participants"), 0, error_type="greater_than_equal"),
    Case("participants huge", A, (ANS, "participants"), 500, error_type="less_than_equal"),
    Case("goals whitespace", A, (ANS, "goals"), "   ", error_type="string_too_short"),
    Case("goals too long", A, (ANS, "goals"), "Learn about data platforms. " * 150, error_type="string_too_long"),
    Case(
        "goals with escape",
        A,
        (ANS, "goals"),
        "We want to learn\x1b[31m how to run a farm data platform.",
        error_type="control_character",
    ),
    Case(
        "travel window too short for the days",
        A,
        (ANS, "travel_window"),
        {"start": "2027-03-15", "end": "2027-03-19"},
        error_type="travel_window_too_short",
        example=1,
    ),
    Case(
        "travel window of a weekend",
        A,
        (ANS, "travel_window"),
        {"start": "2027-03-20", "end": "2027-03-21"},
        error_type="travel_window_too_short",
    ),
    Case(
        "travel window reversed",
        A,
        (ANS, "travel_window"),
        {"start": "2027-05-28", "end": "2027-03-15"},
        loc=(ANS, "travel_window", "end"),
        error_type="date_range_reversed",
    ),
    Case("travel window a string", A, (ANS, "travel_window"), "spring", error_type="model_type"),
    Case(
        "preferred also excluded", A, (ANS, "excluded_countries"), ["NL"], error_type="country_preferred_and_excluded"
    ),
    Case("preferred country not eligible", A, (ANS, "preferred_countries", 0), "US", error_type="country_not_eligible"),
    Case("preferred country twice", A, (ANS, "preferred_countries"), ["DE", "DE"], error_type="duplicate_items"),
    Case(
        "too many preferred countries",
        A,
        (ANS, "preferred_countries"),
        "AT BE BG HR CY CZ DK EE FI FR DE".split(),
        error_type="too_long",
    ),
    Case(
        "excluded country lower case",
        A,
        (ANS, "excluded_countries"),
        ["fr"],
        loc=(ANS, "excluded_countries", 0),
        error_type="country_code_case",
    ),
    Case(
        "visitor four ecosystems",
        A,
        (ANS, "ecosystems"),
        ["digital", "health", "retail", "textile"],
        error_type="too_long",
    ),
    Case("visitor activity unknown", A, (ANS, "activities", 0), "lunch", error_type="enum"),
    Case("visitor no language", A, (ANS, "languages"), [], error_type="too_short"),
    Case("visitor format hybrid", A, (ANS, "formats", 0), "hybrid", error_type="enum"),
    Case("visitor from Switzerland", A, (ORG, "country"), "CH", error_type="country_not_eligible"),
    Case("visitor answers unknown field", A, (ANS, "budget"), 5000, error_type="extra_forbidden"),
    Case("visitor keywords not a list", A, (ANS, "keywords"), "data", error_type="list_type"),
    # Updates
    Case("host update without answers", HostEntryUpdate, (ANS,), DELETE, error_type="missing"),
    Case("host update unknown field", HostEntryUpdate, ("status",), "paused", error_type="extra_forbidden"),
    Case("host update bad capacity", HostEntryUpdate, (ANS, "capacity"), 0, error_type="greater_than_equal"),
    Case(
        "application update bad organisation",
        ApplicationUpdate,
        (ORG,),
        {"name": "X Cluster", "kind": "sme", "country": "US", "city": "Austin", "website": "https://x.example/"},
        loc=(ORG, "country"),
        error_type="country_not_eligible",
    ),
    Case("application update unknown field", ApplicationUpdate, ("application_id",), "x", error_type="extra_forbidden"),
    Case("application update days 23", ApplicationUpdate, (ANS, "days"), 23, error_type="less_than_equal"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_an_invalid_document_is_rejected_with_the_field_at_fault_in_loc(case: Case) -> None:
    with pytest.raises(ValidationError) as raised:
        case.model.model_validate(case.payload())
    errors = raised.value.errors()
    expected_loc = case.loc or case.path
    assert [error["loc"] for error in errors] == [expected_loc], errors
    if case.error_type is not None:
        assert errors[0]["type"] == case.error_type, errors[0]
    assert errors[0]["msg"]


@pytest.mark.parametrize("case", CASES[:12], ids=[case.id for case in CASES[:12]])
def test_an_invalid_document_is_rejected_from_json_too(case: Case) -> None:
    import json

    with pytest.raises(ValidationError) as raised:
        case.model.model_validate_json(json.dumps(case.payload()))
    assert raised.value.errors()[0]["loc"] == (case.loc or case.path)


def test_there_are_well_over_sixty_invalid_cases() -> None:
    assert len(CASES) > 60
    assert len({case.id for case in CASES}) == len(CASES)
