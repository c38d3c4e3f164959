"""Valid answers pass, are normalised, and survive a JSON round trip; the closed lists are what the scheme says."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pycountry
import pytest
from pydantic import ValidationError

from cx_contracts import examples
from cx_contracts.api import (
    ApplicationCreate,
    ApplicationPublic,
    ApplicationUpdate,
    HostEntryCreate,
    HostEntryPublic,
    HostEntryUpdate,
)
from cx_contracts.questionnaire import (
    Contact,
    DateRange,
    DateRangeState,
    HostAnswers,
    HostAnswersState,
    Organisation,
    OrganisationState,
    VisitorAnswers,
    working_days,
)
from cx_contracts.vocabulary import (
    ELIGIBLE_COUNTRIES,
    EU_MEMBER_STATES,
    MAX_EXCHANGE_DAYS,
    MIN_EXCHANGE_DAYS,
    Activity,
    Ecosystem,
    EligibleCountry,
    ExchangeFormat,
    OrganisationKind,
    Topic,
    country_name,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("index", range(len(examples.HOST_EXAMPLES)))
def test_every_example_host_entry_is_valid_and_survives_a_json_round_trip(index: int) -> None:
    entry = HostEntryCreate.model_validate(examples.host_entry_payload(index))
    assert HostEntryCreate.model_validate_json(entry.model_dump_json()) == entry


@pytest.mark.parametrize("index", range(len(examples.VISITOR_EXAMPLES)))
def test_every_example_application_is_valid_and_survives_a_json_round_trip(index: int) -> None:
    application = ApplicationCreate.model_validate(examples.application_payload(index))
    assert ApplicationCreate.model_validate_json(application.model_dump_json()) == application


def test_the_example_payload_functions_return_fresh_copies() -> None:
    first = examples.host_entry_payload()
    first["answers"]["ecosystems"].append("retail")
    assert examples.host_entry_payload()["answers"]["ecosystems"] == ["agri_food", "digital"]


def test_an_update_may_carry_only_the_answers() -> None:
    update = HostEntryUpdate.model_validate({"answers": examples.host_entry_payload(1)["answers"]})
    assert update.organisation is None and update.contact is None
    application = ApplicationUpdate.model_validate({"answers": examples.application_payload(1)["answers"]})
    assert application.answers.days == 10


def test_an_update_may_also_replace_organisation_and_contact() -> None:
    payload = examples.application_payload(2)
    update = ApplicationUpdate.model_validate(payload)
    assert update.organisation is not None and update.organisation.country == "UA"
    assert update.contact is not None and update.contact.name == "Oksana Kovalenko"


def test_single_line_texts_are_trimmed_and_inner_whitespace_is_collapsed() -> None:
    organisation = examples.host_organisation(name="  Baltic   HealthTech  Cluster ", city=" Kaunas ")
    assert organisation.name == "Baltic HealthTech Cluster"
    assert organisation.city == "Kaunas"


def test_texts_are_normalised_to_composed_unicode() -> None:
    decomposed = "Guimara\u0303es"
    assert examples.host_organisation(city=decomposed).city == "Guimarães"


def test_free_text_keeps_its_paragraphs_and_normalises_line_endings() -> None:
    expertise = "We run a living lab for precision farming.\r\n\r\n\tVisitors see the sensor data platform."
    answers = examples.host_answers(expertise=expertise)
    assert answers.expertise == "We run a living lab for precision farming.\n\n\tVisitors see the sensor data platform."


def test_names_in_any_european_script_are_accepted() -> None:
    contact = examples.host_contact(name="Rūta Petrauskienė")
    assert contact.name == "Rūta Petrauskienė"
    assert examples.host_organisation(name="Кластер медичних технологій", city="Львів").name.startswith("Кластер")


def test_an_email_domain_is_lower_cased_and_the_local_part_kept() -> None:
    contact = Contact(name="Hanna Brüggemann", email="H.Brueggemann@NordWest-AgriFood.Example")
    assert contact.email == "H.Brueggemann@nordwest-agrifood.example"


@pytest.mark.parametrize(
    "email",
    [
        "a.b-c+tag@cluster.example",
        "o'neill@cluster.ie",
        "info@xn--mnchen-3ya.de",
        "info@münchen-cluster.de",
        "x@sub.domain.eu",
    ],
)
def test_ordinary_email_addresses_are_accepted(email: str) -> None:
    assert Contact(name="Test Person", email=email).email.split("@")[0] == email.split("@")[0]


def test_a_website_is_kept_in_normalised_form() -> None:
    assert examples.host_organisation(website="HTTPS://WWW.Cluster.Example").website == "https://www.cluster.example/"
    assert (
        examples.host_organisation(website="http://cluster.example/en/about").website
        == "http://cluster.example/en/about"
    )


@pytest.mark.parametrize("code", sorted(ELIGIBLE_COUNTRIES))
def test_every_eligible_country_is_accepted(code: str) -> None:
    assert examples.host_organisation(country=code).country == code


def test_eligible_countries_are_eu_27_plus_the_smp_associated_countries() -> None:
    assert len(EU_MEMBER_STATES) == 27
    assert EU_MEMBER_STATES < ELIGIBLE_COUNTRIES
    associated = ELIGIBLE_COUNTRIES - EU_MEMBER_STATES
    assert associated == {"IS", "LI", "NO", "AL", "BA", "ME", "MK", "RS", "TR", "UA", "XK", "MD"}
    assert not {"GB", "CH", "US", "EL", "UK"} & ELIGIBLE_COUNTRIES


def test_every_eligible_country_code_is_iso_3166_except_kosovo() -> None:
    for code in ELIGIBLE_COUNTRIES - {"XK"}:
        assert pycountry.countries.get(alpha_2=code) is not None, code
    assert country_name("XK") == "Kosovo"
    assert EligibleCountry.TR.label == "Türkiye"


def test_the_closed_lists_hold_what_the_design_lists() -> None:
    assert len(Ecosystem) == 14
    assert len(Topic) == 12
    assert {a.value for a in Activity} == {
        "meetings",
        "trainings",
        "coaching",
        "workshops",
        "site_visits",
        "member_matchmaking",
        "job_shadowing",
    }
    assert {f.value for f in ExchangeFormat} == {"physical", "virtual"}
    assert len(OrganisationKind) == 6
    assert Ecosystem.AEROSPACE_DEFENCE.label == "Aerospace & Defence"
    assert Topic.SME_SERVICES.label == "Services for SMEs"
    assert all(topic.label for topic in Topic) and all(kind.label for kind in OrganisationKind)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2027, 3, 1), date(2027, 3, 5), 5),  # Monday to Friday
        (date(2027, 3, 6), date(2027, 3, 7), 0),  # a weekend
        (date(2027, 3, 5), date(2027, 3, 8), 2),  # Friday to Monday
        (date(2027, 3, 1), date(2027, 3, 28), 20),  # four whole weeks
        (date(2027, 3, 1), date(2027, 3, 31), 23),  # a 31-day month starting on a Monday
        (date(2027, 2, 1), date(2027, 2, 28), 20),
        (date(2027, 3, 3), date(2027, 3, 3), 1),
        (date(2027, 3, 8), date(2027, 3, 1), 0),  # reversed
    ],
)
def test_working_days_count_mondays_to_fridays_both_ends_included(start: date, end: date, expected: int) -> None:
    assert working_days(start, end) == expected


def test_working_days_agree_with_counting_day_by_day() -> None:
    start = date(2027, 1, 1)
    for length in range(0, 60):
        period = DateRangeState(start=start, end=date.fromordinal(start.toordinal() + length))
        assert period.working_days == sum(1 for day in period.days() if day.weekday() < 5)


@pytest.mark.parametrize("days", [MIN_EXCHANGE_DAYS, 5, MAX_EXCHANGE_DAYS])
def test_exchange_lengths_from_three_working_days_to_one_month_are_accepted(days: int) -> None:
    assert examples.visitor_answers(1, days=days).days == days
    assert examples.host_answers(0, max_days=days).max_days == days


def test_a_travel_window_holding_exactly_the_days_asked_for_is_accepted() -> None:
    answers = examples.visitor_answers(0, days=5, travel_window={"start": "2027-03-15", "end": "2027-03-19"})
    assert answers.travel_window is not None and answers.travel_window.working_days == 5


def test_no_travel_window_means_any_time() -> None:
    assert examples.visitor_answers(0, travel_window=None).travel_window is None


def test_empty_availability_means_any_time() -> None:
    assert examples.host_answers(0, availability=[]).availability == []


def test_a_country_may_be_excluded_when_nothing_is_preferred() -> None:
    answers = examples.visitor_answers(0, preferred_countries=[], excluded_countries=["FR", "TR"])
    assert answers.excluded_countries == ["FR", "TR"]


def test_date_ranges_tell_their_overlap() -> None:
    spring = DateRange(start=date(2027, 3, 1), end=date(2027, 5, 31))
    may = DateRangeState(start=date(2027, 5, 1), end=date(2027, 6, 30))
    assert spring.overlap(may) == DateRangeState(start=date(2027, 5, 1), end=date(2027, 5, 31))
    assert spring.overlap(DateRangeState(start=date(2027, 7, 1), end=date(2027, 7, 9))) is None


def test_strict_models_are_instances_of_their_tolerant_base() -> None:
    assert isinstance(examples.host_answers(), HostAnswersState)
    assert isinstance(examples.host_organisation(), OrganisationState)
    assert isinstance(DateRange(start=date(2027, 3, 1), end=date(2027, 3, 5)), DateRangeState)


def test_the_tolerant_forms_ignore_unknown_fields_where_the_strict_forms_reject_them() -> None:
    answers = {**examples.host_entry_payload()["answers"], "favourite_colour": "green"}
    assert "favourite_colour" not in HostAnswersState.model_validate(answers).model_dump()
    with pytest.raises(ValidationError):
        HostAnswers.model_validate(answers)
    organisation = {**examples.host_entry_payload()["organisation"], "vat": "DE1"}
    assert OrganisationState.model_validate(organisation).name.startswith("NordWest")
    with pytest.raises(ValidationError):
        Organisation.model_validate(organisation)


def test_the_tolerant_forms_apply_the_same_rules() -> None:
    answers = {**examples.application_payload()["answers"], "days": 2}
    with pytest.raises(ValidationError) as raised:
        VisitorAnswers.model_validate(answers)
    assert raised.value.errors()[0]["loc"] == ("days",)


def test_answers_are_immutable_values() -> None:
    answers = examples.host_answers()
    with pytest.raises(ValidationError):
        answers.capacity = 9  # type: ignore[misc]


def test_the_public_catalogue_entry_drops_the_contact_and_storage_fields() -> None:
    stored = {
        "_id": "ignored",
        "host_id": str(uuid4()),
        "revision": 3,
        "outbox": [{"topic": "x"}],
        **examples.host_entry_payload(2),
    }
    public = HostEntryPublic.model_validate(stored)
    dumped = public.model_dump_json()
    assert "contact" not in HostEntryPublic.model_fields
    assert "ruta@healthtech-baltic.example" not in dumped and "Petrauskien" not in dumped
    assert public.organisation.name == "Baltic HealthTech Cluster"


def test_the_public_application_drops_the_contact() -> None:
    stored = {"application_id": str(uuid4()), "revision": 1, **examples.application_payload(0)}
    public = ApplicationPublic.model_validate(stored)
    assert "d.ivanova@sofia-foodtech.example" not in public.model_dump_json()


def test_error_messages_say_what_is_wrong_in_plain_words() -> None:
    with pytest.raises(ValidationError) as raised:
        examples.host_organisation(country="CH")
    assert "Switzerland (CH) is not an eligible country" in raised.value.errors()[0]["msg"]
    with pytest.raises(ValidationError) as raised:
        examples.host_organisation(country="EL")
    assert "Greece is 'GR'" in raised.value.errors()[0]["msg"]
    with pytest.raises(ValidationError) as raised:
        examples.visitor_answers(1, travel_window={"start": "2027-03-15", "end": "2027-03-19"})
    assert "holds 5 working days, fewer than the 10" in raised.value.errors()[0]["msg"]
