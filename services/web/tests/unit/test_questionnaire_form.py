"""The questionnaires as forms: the API's document from what a person typed, and the API's errors back on it."""

from __future__ import annotations

import pytest

from cx_contracts import examples
from cx_contracts.vocabulary import PARTNERSHIPS

from cx_web.domain.questionnaire_form import host_questionnaire, visitor_questionnaire

pytestmark = pytest.mark.unit
HOST = host_questionnaire(PARTNERSHIPS)
VISITOR = visitor_questionnaire(PARTNERSHIPS)


def test_a_stored_entry_shown_in_the_form_and_sent_back_is_the_same_document() -> None:
    stored = {**examples.host_entry_payload(0), "partnership": "escp-4x-03"}

    document = HOST.document(HOST.values(HOST.from_document(stored)), contact_email=stored["contact"]["email"])

    assert document == stored


def test_an_application_shown_in_the_form_and_sent_back_is_the_same_document() -> None:
    stored = {**examples.application_payload(0), "partnership": "escp-4x-01"}

    document = VISITOR.document(VISITOR.values(VISITOR.from_document(stored)), contact_email=stored["contact"]["email"])

    assert document == stored


def test_numbers_go_as_numbers_and_anything_else_as_typed_for_the_api_to_judge() -> None:
    document = HOST.document({"answers.capacity": ["4"], "answers.max_days": ["ten"]}, contact_email=None)

    assert document["answers"]["capacity"] == 4
    assert document["answers"]["max_days"] == "ten"


def test_empty_answers_are_left_out_so_the_api_names_what_is_missing() -> None:
    document = VISITOR.document(VISITOR.values({"answers.days": [" "], "answers.goals": ["Learn"]}), contact_email=None)

    assert "days" not in document["answers"] and "travel_window" not in document["answers"]
    assert document["answers"]["ecosystems"] == []


def test_codes_split_on_commas_or_spaces_and_tags_only_on_commas() -> None:
    document = HOST.document(
        {"answers.languages": ["en, de sl"], "answers.keywords": ["data sharing, living lab,"]}, contact_email=None
    )

    assert document["answers"]["languages"] == ["en", "de", "sl"]
    assert document["answers"]["keywords"] == ["data sharing", "living lab"]


def test_availability_periods_left_empty_in_between_close_up() -> None:
    values = HOST.values(
        {
            "answers.availability[1].start": ["2027-03-01"],
            "answers.availability[1].end": ["2027-03-31"],
            "answers.availability[3].start": ["2027-09-01"],
        }
    )

    periods = HOST.document(values, contact_email=None)["answers"]["availability"]

    assert periods == [{"start": "2027-03-01", "end": "2027-03-31"}, {"start": "2027-09-01"}]
    assert values["answers.availability[1].start"] == ["2027-09-01"]


def test_an_error_on_a_list_item_goes_beside_the_list_and_names_the_value() -> None:
    document = HOST.document({"answers.languages": ["en, EN"]}, contact_email=None)

    problems = HOST.problems([{"field": "answers.languages[1]", "message": "Use lower case"}], document)

    assert problems.by_field == {"answers.languages": ["\u201cEN\u201d: Use lower case"]}
    assert problems.summary[0].field is HOST.field_named("answers.languages")


def test_errors_on_a_date_or_a_whole_object_go_beside_its_first_field() -> None:
    problems = VISITOR.problems(
        [
            {"field": "answers.travel_window.end", "message": "Too short"},
            {"field": "contact", "message": "Field required"},
            {"field": "answers.travel_window", "message": "Invalid"},
        ],
        {},
    )

    assert problems.by_field["answers.travel_window.end"] == ["Too short"]
    assert problems.by_field["contact.name"] == ["Field required"]
    assert problems.by_field["answers.travel_window.start"] == ["Invalid"]


def test_an_error_on_no_field_of_the_form_is_shown_in_the_summary_only() -> None:
    problems = HOST.problems([{"field": "contact.email", "message": "must be the address you signed in with"}], {})

    assert problems.by_field == {}
    assert problems.summary[0].field is None and problems


def test_a_stale_edit_names_each_field_whose_current_value_differs_in_the_words_the_form_uses() -> None:
    mine = HOST.from_document(examples.host_entry_payload(0))
    current_document = examples.host_entry_payload(0)
    current_document["answers"]["ecosystems"] = ["health"]
    current = HOST.from_document(current_document)

    differences = HOST.differences(mine, current)

    assert set(differences) == {"answers.ecosystems"}
    assert HOST.field_named("answers.ecosystems").shown(differences["answers.ecosystems"]) == "Health"


def test_every_field_has_its_own_id_for_labels_and_the_error_summary() -> None:
    for questionnaire in (HOST, VISITOR):
        ids = [f.id for f in questionnaire.fields]
        assert len(ids) == len(set(ids))
