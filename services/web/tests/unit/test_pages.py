"""The pages on an in-memory API: what a person sees and what each form sends, before any real service."""

from __future__ import annotations

import re

import pytest

from cx_contracts import examples
from cx_contracts.vocabulary import PARTNERSHIPS

pytestmark = pytest.mark.unit
PARTNERSHIP = next(iter(PARTNERSHIPS))


def host_form(index: int = 0, **changes: list[str]) -> dict[str, list[str]]:
    payload = examples.host_entry_payload(index)
    organisation, answers = payload["organisation"], payload["answers"]
    form = {f"organisation.{k}": [str(v)] for k, v in organisation.items()}
    form |= {
        "partnership": [PARTNERSHIP],
        "contact.name": [payload["contact"]["name"]],
        "answers.ecosystems": answers["ecosystems"],
        "answers.topics": answers["topics"],
        "answers.activities": answers["activities"],
        "answers.languages": [", ".join(answers["languages"])],
        "answers.formats": answers["formats"],
        "answers.expertise": [answers["expertise"]],
        "answers.keywords": [", ".join(answers["keywords"])],
        "answers.max_days": [str(answers["max_days"])],
        "answers.capacity": [str(answers["capacity"])],
        "csrf_token": ["csrf-of-test"],
    }
    for row, period in enumerate(answers["availability"]):
        form[f"answers.availability[{row}].start"] = [period["start"]]
        form[f"answers.availability[{row}].end"] = [period["end"]]
    return form | changes


def test_the_catalogue_lists_hosts_without_contact_data_and_pages_through_them(browser, api) -> None:
    for index in range(12):
        api.publish("someone", {**examples.host_entry_payload(index % 3), "partnership": PARTNERSHIP})

    first = browser.get("/catalogue")
    second = browser.get("/catalogue?page=2")

    assert first.status_code == 200
    assert "12 hosts, 1–10 shown" in first.text and "Page 1 of 2" in first.text
    assert 'href="/catalogue?page=2"' in first.text
    assert second.text.count('class="host-card"') == 2
    assert examples.host_entry_payload(0)["contact"]["email"] not in first.text


def test_a_filter_the_api_refuses_is_shown_beside_its_field(browser) -> None:
    page = browser.get("/catalogue?country=de")

    assert page.status_code == 422
    assert re.search(r'id="field-country-error">.*Use upper case', page.text)


def test_a_page_that_needs_a_signed_in_person_sends_it_to_sign_in_and_back(browser) -> None:
    answer = browser.get("/entries/new")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fentries%2Fnew"


def test_a_host_publishes_its_entry_with_the_address_it_signed_in_with(browser, api, sign_in) -> None:
    sign_in(browser, "nordwest-agrifood")

    answer = browser.post("/entries/new", data=host_form())

    assert answer.status_code == 303, answer.text
    (stored,) = api.records["/api/catalogue/hosts"].values()
    assert stored.owner == "nordwest-agrifood"
    assert stored.document["contact"] == {"name": "Hanna Brüggemann", "email": "contact@nordwest-agrifood.example"}
    assert stored.document["answers"]["capacity"] == 3 and stored.document["answers"]["languages"] == ["de", "en"]
    page = browser.get(answer.headers["location"])
    assert "Your entry is published" in page.text and "Edit the entry" in page.text


def test_a_create_form_sends_the_key_it_was_rendered_with_so_a_second_click_makes_nothing_new(
    browser, api, sign_in
) -> None:
    sign_in(browser, "nordwest-agrifood")
    form = browser.get("/entries/new")
    (key,) = re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', form.text)
    assert re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', browser.get("/entries/new").text) != [key]

    refused = browser.post("/entries/new", data=host_form(idempotency_key=[key], **{"answers.capacity": ["many"]}))
    assert refused.status_code == 422 and f'name="idempotency_key" value="{key}"' in refused.text, "kept on a retry"
    browser.post("/entries/new", data=host_form(idempotency_key=[key]))
    browser.post("/entries/new", data=host_form(idempotency_key=["not-a-uuid"]))

    sent = api.idempotency_keys
    assert sent[:2] == [key, key], "the API is told the form's key: it gives back the first record on a resend"
    assert sent[2] is not None and sent[2] != key, "a key that is not the form's is replaced, never forwarded"


def test_each_field_error_of_the_api_is_shown_beside_its_field_and_in_the_summary(browser, sign_in) -> None:
    sign_in(browser, "nordwest-agrifood")

    answer = browser.post(
        "/entries/new", data=host_form(**{"answers.languages": ["de, EN"], "answers.capacity": ["many"]})
    )

    assert answer.status_code == 422
    assert re.search(r'id="field-answers-languages-error">.*\u201cEN\u201d', answer.text)
    assert re.search(r'id="field-answers-capacity-error">.*valid integer', answer.text)
    assert '<a href="#field-answers-languages">' in answer.text
    assert 'value="de, EN"' in answer.text, "what the person typed stays in the form"


def test_a_form_without_the_sessions_csrf_token_changes_nothing(browser, api, sign_in) -> None:
    sign_in(browser, "nordwest-agrifood")

    answer = browser.post("/entries/new", data=host_form(csrf_token=["forged"]))

    assert answer.status_code == 400 and "This form has expired" in answer.text
    assert not api.records["/api/catalogue/hosts"]


def test_a_stale_edit_keeps_the_persons_changes_and_shows_the_current_version_beside_the_field(
    browser, api, sign_in
) -> None:
    sign_in(browser, "nordwest-agrifood")
    host_id = api.publish("nordwest-agrifood", {**examples.host_entry_payload(0), "partnership": PARTNERSHIP})
    api.records["/api/catalogue/hosts"][host_id].revision = 2
    api.records["/api/catalogue/hosts"][host_id].document["answers"]["capacity"] = 7

    answer = browser.post(f"/entries/{host_id}/edit", data=host_form(revision=["1"], **{"answers.capacity": ["4"]}))

    assert answer.status_code == 409
    assert "changed since you opened it" in answer.text
    assert re.search(r'id="field-answers-capacity-current">.*The current version says: 7', answer.text)
    assert 'name="revision" value="2"' in answer.text, "saving again replaces the current version knowingly"
    assert re.search(r'id="field-answers-capacity"[^>]*value="4"', answer.text)


def test_a_manager_reads_but_is_never_offered_a_change(browser, api, sign_in) -> None:
    sign_in(browser, "escp-office", role="manager", partnership=PARTNERSHIP)

    new = browser.get("/entries/new")

    assert new.status_code == 403 and "do not change them" in new.text


def test_sign_out_needs_the_form_and_empties_the_session(browser, sign_in) -> None:
    sign_in(browser, "nordwest-agrifood")

    answer = browser.post("/sign-out", data={"csrf_token": "csrf-of-test"})

    assert answer.status_code == 303
    assert browser.get("/entries/new").status_code == 303


def test_a_host_withdraws_its_entry_after_confirming_from_the_revision_it_saw(browser, api, sign_in) -> None:
    sign_in(browser, "nordwest-agrifood")
    host_id = api.publish("nordwest-agrifood", {**examples.host_entry_payload(0), "partnership": PARTNERSHIP})

    confirm = browser.get(f"/entries/{host_id}/withdraw")
    answer = browser.post(f"/entries/{host_id}/withdraw", data={"csrf_token": "csrf-of-test", "revision": "1"})

    assert confirm.status_code == 200 and 'name="revision" value="1"' in confirm.text
    assert (answer.status_code, answer.headers["location"]) == (303, "/entries")
    assert host_id not in api.records["/api/catalogue/hosts"]
    assert "Your host entry is withdrawn." in browser.get("/entries").text


def test_another_organisations_application_reads_as_no_page_at_all(browser, api, sign_in) -> None:
    application_id = api.apply("someone-else", {**examples.application_payload(0), "partnership": PARTNERSHIP})
    sign_in(browser, "nordwest-agrifood")

    page = browser.get(f"/applications/{application_id}")

    assert page.status_code == 404 and "Page not found" in page.text
