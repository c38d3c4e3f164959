"""Malformed and hostile requests to every catalogue route: each gets a 4xx naming the field at fault, and
nothing is stored or published.

One catalogue serves the whole module, holding one entry published beforehand; after every request the
store must hold exactly that entry at revision 1, and at the end its topic exactly its one event.
"""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts.examples import host_entry_payload
from cx_contracts.topics import HOST_ANSWERS

from cx_kit.service_testing import (
    HOSTILE_AUTHORIZATION,
    HOSTILE_IDS,
    HOSTILE_IF_MATCH,
    INJECTION,
    REMOVE,
    SCRIPT,
    SERVICE_TEST_TOKEN,
    HostileInput,
    bearer,
    mutated,
    names_field,
    organisation_and_contact_inputs,
    shared_answer_inputs,
    topic_record_count,
)

pytestmark = pytest.mark.integration

HOST_ANSWER_INPUTS = [
    HostileInput("expertise-too-short", "answers.expertise", "We are nice.", "answers.expertise"),
    HostileInput("expertise-too-long", "answers.expertise", "x" * 4001, "answers.expertise"),
    HostileInput("expertise-nul", "answers.expertise", "A" * 60 + "\x00", "answers.expertise"),
    HostileInput("expertise-number", "answers.expertise", 42, "answers.expertise"),
    HostileInput("expertise-injection", "answers.expertise", INJECTION, "answers.expertise"),
    HostileInput("availability-reversed", "answers.availability",
                 [{"start": "2027-06-30", "end": "2027-03-01"}], "answers.availability[0]"),
    HostileInput("availability-impossible-date", "answers.availability",
                 [{"start": "2027-02-30", "end": "2027-03-30"}], "answers.availability[0].start"),
    HostileInput("availability-too-short", "answers.availability",
                 [{"start": "2027-03-06", "end": "2027-03-08"}], "answers.availability"),
    HostileInput("availability-last-century", "answers.availability",
                 [{"start": "1999-03-01", "end": "1999-04-01"}], "answers.availability[0].start"),
    HostileInput("availability-unknown-field", "answers.availability",
                 [{"start": "2027-03-01", "end": "2027-04-01", "note": "x"}], "answers.availability[0].note"),
    HostileInput("max-days-too-few", "answers.max_days", 2, "answers.max_days"),
    HostileInput("max-days-too-many", "answers.max_days", 23, "answers.max_days"),
    HostileInput("max-days-string", "answers.max_days", "10", "answers.max_days"),
    HostileInput("max-days-fraction", "answers.max_days", 10.5, "answers.max_days"),
    HostileInput("capacity-zero", "answers.capacity", 0, "answers.capacity"),
    HostileInput("capacity-boolean", "answers.capacity", True, "answers.capacity"),
    HostileInput("capacity-huge", "answers.capacity", 10**30, "answers.capacity"),
    HostileInput("visitor-field-in-host-answers", "answers.goals", "x" * 50, "answers.goals"),
]

BODY_INPUTS = organisation_and_contact_inputs() + shared_answer_inputs() + HOST_ANSWER_INPUTS

QUERY_INPUTS: list[tuple[str, dict[str, Any] | str, str]] = [
    ("ecosystem-unknown", {"ecosystem": "space"}, "ecosystem[0]"),
    ("ecosystem-injection", {"ecosystem": '{"$gt": ""}'}, "ecosystem[0]"),
    ("country-lower-case", {"country": "de"}, "country[0]"),
    ("country-not-eligible", {"country": "US"}, "country[0]"),
    ("country-operator-key", "country[$ne]=DE", "country[$ne]"),
    ("language-upper-case", {"language": "EN"}, "language[0]"),
    ("format-unknown", {"format": "hybrid"}, "format[0]"),
    ("topic-script", {"topic": SCRIPT}, "topic[0]"),
    ("page-zero", {"page": 0}, "page"),
    ("page-negative", {"page": -1}, "page"),
    ("page-text", {"page": "abc"}, "page"),
    ("page-beyond-limit", {"page": 10001}, "page"),
    ("page-size-over-100", {"page_size": 101}, "page_size"),
    ("page-size-zero", {"page_size": 0}, "page_size"),
    ("q-too-long", {"q": "word " * 41}, "q"),
    ("q-nul-byte", {"q": "lab\x00"}, "q"),
    ("q-line-break", {"q": "living\nlab"}, "q"),
    ("q-too-many-words", {"q": " ".join(f"w{i}" for i in range(11))}, "q"),
    ("unknown-sort-parameter", {"sort": "name"}, "sort"),
    ("unknown-where-parameter", {"$where": "sleep(1000)"}, "$where"),
]


@pytest.fixture(scope="module")
async def service(module_catalogue):
    """The module's catalogue with one published entry: (client, host_id, owner_token, settings, app)."""
    client, app, settings = module_catalogue
    created = (await client.post("/api/catalogue/hosts", json=host_entry_payload(0))).json()
    return client, created["host_id"], created["owner_token"], settings, app


async def _nothing_changed(service) -> None:
    _client, host_id, _token, _settings, app = service
    hosts = app.state.hosts
    assert await hosts.count() == 1, "nothing new stored"
    stored = await hosts.collection.find_one({"_id": host_id})
    assert stored["revision"] == 1 and stored["answers"] == host_entry_payload(0)["answers"], "the entry is untouched"


def _assert_problem(response, status: int | tuple[int, ...], field: str | None) -> dict:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if field is not None:
        assert names_field(problem, field), f"{field} not named in {problem}"
    return problem


@pytest.mark.parametrize("case", BODY_INPUTS, ids=lambda c: c.label)
async def test_a_broken_entry_is_refused_naming_the_field(service, case: HostileInput):
    client = service[0]
    response = await client.post("/api/catalogue/hosts", json=mutated(host_entry_payload(0), case.path, case.value))
    _assert_problem(response, 422, case.field)
    await _nothing_changed(service)


@pytest.mark.parametrize("case", [c for c in BODY_INPUTS if c.path.startswith(("answers.", "contact.",
                                                                                "organisation."))][::3],
                         ids=lambda c: c.label)
async def test_a_broken_replacement_is_refused_naming_the_field(service, case: HostileInput):
    client, host_id, token = service[:3]
    body = mutated(
        {"answers": host_entry_payload(1)["answers"], "organisation": host_entry_payload(0)["organisation"],
         "contact": host_entry_payload(0)["contact"]},
        case.path, case.value,
    )
    response = await client.put(f"/api/catalogue/hosts/{host_id}", json=body,
                                headers={**bearer(token), "If-Match": '"1"'})
    _assert_problem(response, 422, case.field)
    await _nothing_changed(service)


@pytest.mark.parametrize(("label", "params", "field"), QUERY_INPUTS, ids=[c[0] for c in QUERY_INPUTS])
async def test_a_broken_catalogue_query_is_refused_naming_the_parameter(service, label, params, field):
    client = service[0]
    if isinstance(params, str):
        response = await client.get(f"/api/catalogue/hosts?{params}")
    else:
        response = await client.get("/api/catalogue/hosts", params=params)
    _assert_problem(response, 422, field)


@pytest.mark.parametrize("bad_id", HOSTILE_IDS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "INTERNAL"])
async def test_an_id_that_is_not_a_uuid_is_refused_naming_it(service, method, bad_id):
    client, _host_id, token = service[:3]
    owner = {**bearer(token), "If-Match": '"1"'}
    if method == "GET":
        response = await client.get(f"/api/catalogue/hosts/{bad_id}")
    elif method == "PUT":
        response = await client.put(f"/api/catalogue/hosts/{bad_id}", headers=owner,
                                    json={"answers": host_entry_payload(1)["answers"]})
    elif method == "DELETE":
        response = await client.delete(f"/api/catalogue/hosts/{bad_id}", headers=owner)
    else:
        response = await client.get(f"/internal/contacts/hosts/{bad_id}", headers=bearer(SERVICE_TEST_TOKEN))
    _assert_problem(response, 422, "host_id")
    await _nothing_changed(service)


@pytest.mark.parametrize("if_match", HOSTILE_IF_MATCH)
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_malformed_if_match_is_refused_naming_it(service, method, if_match):
    client, host_id, token = service[:3]
    headers = {**bearer(token), "If-Match": if_match}
    if method == "PUT":
        response = await client.put(f"/api/catalogue/hosts/{host_id}", headers=headers,
                                    json={"answers": host_entry_payload(1)["answers"]})
    else:
        response = await client.delete(f"/api/catalogue/hosts/{host_id}", headers=headers)
    _assert_problem(response, 422, "If-Match")
    await _nothing_changed(service)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_write_without_if_match_is_428_naming_it(service, method):
    client, host_id, token = service[:3]
    if method == "PUT":
        response = await client.put(f"/api/catalogue/hosts/{host_id}", headers=bearer(token),
                                    json={"answers": host_entry_payload(1)["answers"]})
    else:
        response = await client.delete(f"/api/catalogue/hosts/{host_id}", headers=bearer(token))
    _assert_problem(response, 428, "If-Match")
    await _nothing_changed(service)


@pytest.mark.parametrize("authorization", HOSTILE_AUTHORIZATION)
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_write_with_a_malformed_credential_is_401(service, method, authorization):
    client, host_id = service[:2]
    headers = {"Authorization": authorization, "If-Match": '"1"'}
    if method == "PUT":
        response = await client.put(f"/api/catalogue/hosts/{host_id}", headers=headers,
                                    json={"answers": host_entry_payload(1)["answers"]})
    else:
        response = await client.delete(f"/api/catalogue/hosts/{host_id}", headers=headers)
    _assert_problem(response, 401, None)
    assert response.headers["www-authenticate"].startswith("Bearer")
    await _nothing_changed(service)


@pytest.mark.parametrize(
    ("label", "content", "content_type"),
    [
        ("not-json", b'{"organisation": ', "application/json"),
        ("empty", b"", "application/json"),
        ("json-as-text-plain", b"organisation=x", "text/plain"),
        ("invalid-utf8", b'{"organisation": "\xff\xfe"}', "application/json"),
        ("deeply-nested", b'{"organisation": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    ],
)
async def test_a_body_that_is_not_a_json_document_is_refused(service, label, content, content_type):
    client = service[0]
    response = await client.post("/api/catalogue/hosts", content=content, headers={"content-type": content_type})
    _assert_problem(response, (400, 422), None)
    await _nothing_changed(service)


async def test_an_oversized_body_is_413_and_stores_nothing(service):
    client = service[0]
    body = host_entry_payload(0, answers={"keywords": ["k" * 40] * 10_000})
    response = await client.post("/api/catalogue/hosts", json=body)
    _assert_problem(response, 413, None)
    await _nothing_changed(service)


async def test_after_all_of_it_the_topic_holds_only_the_one_real_event(infrastructure, service):
    _client, _host_id, _token, settings, app = service
    assert await app.state.relay.pending_count() == 0
    assert await topic_record_count(infrastructure.kafka_bootstrap, settings.topic(HOST_ANSWERS)) == 1
    assert await topic_record_count(infrastructure.kafka_bootstrap, settings.topic(HOST_ANSWERS) + ".dlq") == 0
