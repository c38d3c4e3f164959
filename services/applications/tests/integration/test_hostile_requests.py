"""Malformed and hostile requests to every applications route: each gets a 4xx naming the field at fault, and
nothing is stored or published.

One service serves the whole module, holding one application submitted beforehand; after every request the
store must hold exactly that application at revision 1, and at the end its topic exactly its one event.
"""

from __future__ import annotations

import pytest

from cx_contracts.examples import application_payload
from cx_contracts.topics import VISITOR_ANSWERS

from cx_kit.service_testing import (
    HOSTILE_AUTHORIZATION,
    HOSTILE_IDS,
    HOSTILE_IF_MATCH,
    INJECTION,
    REMOVE,
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

VISITOR_ANSWER_INPUTS = [
    HostileInput("goals-too-short", "answers.goals", "Learn things.", "answers.goals"),
    HostileInput("goals-too-long", "answers.goals", "g" * 4001, "answers.goals"),
    HostileInput("goals-nul", "answers.goals", "G" * 60 + "\x00", "answers.goals"),
    HostileInput("goals-injection", "answers.goals", INJECTION, "answers.goals"),
    HostileInput("goals-missing", "answers.goals", REMOVE, "answers.goals"),
    HostileInput("preferred-uk-code", "answers.preferred_countries", ["UK"], "answers.preferred_countries[0]"),
    HostileInput("preferred-lower-case", "answers.preferred_countries", ["de"], "answers.preferred_countries[0]"),
    HostileInput("preferred-too-many", "answers.preferred_countries",
                 ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE"], "answers.preferred_countries"),
    HostileInput("preferred-repeated", "answers.preferred_countries", ["DE", "DE"], "answers.preferred_countries"),
    HostileInput("excluded-also-preferred", "answers.excluded_countries", ["DE"], "answers.excluded_countries"),
    HostileInput("excluded-injection", "answers.excluded_countries", [INJECTION], "answers.excluded_countries[0]"),
    HostileInput("days-too-few", "answers.days", 2, "answers.days"),
    HostileInput("days-too-many", "answers.days", 23, "answers.days"),
    HostileInput("days-string", "answers.days", "5", "answers.days"),
    HostileInput("travel-window-reversed", "answers.travel_window",
                 {"start": "2027-05-28", "end": "2027-03-15"}, "answers.travel_window"),
    HostileInput("travel-window-shorter-than-days", "answers.travel_window",
                 {"start": "2027-03-15", "end": "2027-03-16"}, "answers.travel_window"),
    HostileInput("travel-window-unknown-field", "answers.travel_window",
                 {"start": "2027-03-15", "end": "2027-05-28", "flexible": True}, "answers.travel_window.flexible"),
    HostileInput("travel-window-not-a-date", "answers.travel_window",
                 {"start": "next spring", "end": "2027-05-28"}, "answers.travel_window.start"),
    HostileInput("participants-zero", "answers.participants", 0, "answers.participants"),
    HostileInput("participants-eleven", "answers.participants", 11, "answers.participants"),
    HostileInput("participants-fraction", "answers.participants", 1.5, "answers.participants"),
    HostileInput("host-field-in-visitor-answers", "answers.capacity", 3, "answers.capacity"),
]

BODY_INPUTS = organisation_and_contact_inputs() + shared_answer_inputs() + VISITOR_ANSWER_INPUTS


@pytest.fixture(scope="module")
async def service(module_applications):
    """The module's service with one submitted application: (client, application_id, owner_token, settings, app)."""
    client, app, settings = module_applications
    created = (await client.post("/api/applications", json=application_payload(0))).json()
    return client, created["application_id"], created["owner_token"], settings, app


async def _nothing_changed(service) -> None:
    _client, application_id, _token, _settings, app = service
    assert await app.state.applications.count() == 1, "nothing new stored"
    stored = await app.state.applications.collection.find_one({"_id": application_id})
    assert stored["revision"] == 1 and stored["answers"] == application_payload(0)["answers"]


def _assert_problem(response, status: int | tuple[int, ...], field: str | None) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert names_field(response.json(), field), f"{field} not named in {response.json()}"


@pytest.mark.parametrize("case", BODY_INPUTS, ids=lambda c: c.label)
async def test_a_broken_application_is_refused_naming_the_field(service, case: HostileInput):
    response = await service[0].post("/api/applications", json=mutated(application_payload(0), case.path, case.value))
    _assert_problem(response, 422, case.field)
    await _nothing_changed(service)


@pytest.mark.parametrize("case", [c for c in BODY_INPUTS if c.path.startswith("answers.")][::2],
                         ids=lambda c: c.label)
async def test_a_broken_replacement_is_refused_naming_the_field(service, case: HostileInput):
    client, application_id, token = service[:3]
    body = mutated({"answers": application_payload(0)["answers"]}, case.path, case.value)
    response = await client.put(f"/api/applications/{application_id}", json=body,
                                headers={**bearer(token), "If-Match": '"1"'})
    _assert_problem(response, 422, case.field)
    await _nothing_changed(service)


@pytest.mark.parametrize("bad_id", HOSTILE_IDS)
@pytest.mark.parametrize("route", ["GET", "MATCHES", "PUT", "DELETE", "INTERNAL"])
async def test_an_id_that_is_not_a_uuid_is_refused_naming_it(service, route, bad_id):
    client, _application_id, token = service[:3]
    owner = {**bearer(token), "If-Match": '"1"'}
    path = f"/api/applications/{bad_id}"
    if route == "GET":
        response = await client.get(path, headers=owner)
    elif route == "MATCHES":
        response = await client.get(f"{path}/matches", headers=owner)
    elif route == "PUT":
        response = await client.put(path, headers=owner, json={"answers": application_payload(0)["answers"]})
    elif route == "DELETE":
        response = await client.delete(path, headers=owner)
    else:
        response = await client.get(f"/internal/contacts/applications/{bad_id}", headers=bearer(SERVICE_TEST_TOKEN))
    _assert_problem(response, 422, "application_id")
    await _nothing_changed(service)


@pytest.mark.parametrize("if_match", HOSTILE_IF_MATCH)
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_malformed_if_match_is_refused_naming_it(service, method, if_match):
    client, application_id, token = service[:3]
    headers = {**bearer(token), "If-Match": if_match}
    path = f"/api/applications/{application_id}"
    if method == "PUT":
        response = await client.put(path, headers=headers, json={"answers": application_payload(0)["answers"]})
    else:
        response = await client.delete(path, headers=headers)
    _assert_problem(response, 422, "If-Match")
    await _nothing_changed(service)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_write_without_if_match_is_428_naming_it(service, method):
    client, application_id, token = service[:3]
    path = f"/api/applications/{application_id}"
    if method == "PUT":
        response = await client.put(path, headers=bearer(token), json={"answers": application_payload(0)["answers"]})
    else:
        response = await client.delete(path, headers=bearer(token))
    _assert_problem(response, 428, "If-Match")
    await _nothing_changed(service)


@pytest.mark.parametrize("authorization", HOSTILE_AUTHORIZATION)
@pytest.mark.parametrize("route", ["GET", "MATCHES", "PUT", "DELETE"])
async def test_an_owner_route_with_a_malformed_credential_is_401(service, route, authorization):
    client, application_id = service[:2]
    headers = {"Authorization": authorization, "If-Match": '"1"'}
    path = f"/api/applications/{application_id}"
    if route == "GET":
        response = await client.get(path, headers=headers)
    elif route == "MATCHES":
        response = await client.get(f"{path}/matches", headers=headers)
    elif route == "PUT":
        response = await client.put(path, headers=headers, json={"answers": application_payload(0)["answers"]})
    else:
        response = await client.delete(path, headers=headers)
    _assert_problem(response, 401, None)
    assert response.headers["www-authenticate"].startswith("Bearer")
    await _nothing_changed(service)


async def test_an_oversized_body_is_413_and_stores_nothing(service):
    body = application_payload(0, answers={"goals": "g" * 300_000})
    _assert_problem(await service[0].post("/api/applications", json=body), 413, None)
    await _nothing_changed(service)


async def test_after_all_of_it_the_topic_holds_only_the_one_real_event(infrastructure, service):
    _client, _application_id, _token, settings, app = service
    assert await app.state.relay.pending_count() == 0
    assert await topic_record_count(infrastructure.kafka_bootstrap, settings.topic(VISITOR_ANSWERS)) == 1
    assert await topic_record_count(infrastructure.kafka_bootstrap, settings.topic(VISITOR_ANSWERS) + ".dlq") == 0
