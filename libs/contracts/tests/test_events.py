"""Events are read tolerantly, hold UTC instants, keep their invariants, and cannot carry personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from cx_contracts import examples
from cx_contracts.events import (
    EVENT_CLASSES,
    TOPIC_EVENTS,
    HostAnswersSubmitted,
    MatchFound,
    NotificationKind,
    NotificationSent,
    VisitorAnswersSubmitted,
)
from cx_contracts.questionnaire import HostAnswersState, OrganisationState
from cx_contracts.topics import EVENT_TOPICS

pytestmark = pytest.mark.unit


def _json(model: BaseModel) -> dict[str, Any]:
    return json.loads(model.model_dump_json())


def test_every_event_survives_a_json_round_trip() -> None:
    for event in (
        examples.host_answers_submitted(1),
        examples.visitor_answers_submitted(2),
        examples.match_found(),
        examples.notification_sent(),
        examples.notification_sent(kind=NotificationKind.DIGEST),
    ):
        assert type(event).model_validate_json(event.model_dump_json()) == event


def test_an_answers_event_built_from_http_input_equals_the_event_read_back() -> None:
    entry = examples.host_entry_create(3)
    event = HostAnswersSubmitted(host_id=uuid4(), revision=1, organisation=entry.organisation, answers=entry.answers)
    assert type(event.answers) is HostAnswersState and type(event.organisation) is OrganisationState
    assert HostAnswersSubmitted.model_validate_json(event.model_dump_json()) == event


def test_events_ignore_unknown_fields_at_every_level() -> None:
    payload = _json(examples.host_answers_submitted(0))
    payload["added_in_a_later_version"] = {"anything": 1}
    payload["organisation"]["registry_number"] = "VR 1234"
    payload["answers"]["sectors"] = ["dairy"]
    payload["answers"]["availability"][0]["note"] = "mornings"
    event = HostAnswersSubmitted.model_validate(payload)
    dumped = event.model_dump_json()
    assert "added_in_a_later_version" not in dumped and "VR 1234" not in dumped and "dairy" not in dumped

    found = _json(examples.match_found())
    found["matches"][0]["distance_km"] = 812
    assert MatchFound.model_validate(found).matches[0].rank == 1


def test_an_answers_event_drops_a_contact_handed_to_it() -> None:
    entry = examples.host_entry_create(0)
    event = HostAnswersSubmitted(
        host_id=uuid4(),
        revision=1,
        organisation={**entry.organisation.model_dump(), "email": entry.contact.email},
        answers=entry.answers,
        contact=entry.contact,
    )
    dumped = event.model_dump_json()
    assert entry.contact.email not in dumped
    assert entry.contact.name not in dumped
    assert "contact" not in dumped


def test_a_visitor_event_read_from_a_careless_producer_drops_the_contact() -> None:
    payload = _json(examples.visitor_answers_submitted(0))
    payload["contact"] = {"name": "Desislava Ivanova", "email": "d.ivanova@sofia-foodtech.example"}
    payload["answers"]["contact_email"] = "d.ivanova@sofia-foodtech.example"
    event = VisitorAnswersSubmitted.model_validate(payload)
    assert "sofia-foodtech.example/" in event.model_dump_json()  # the website stays
    assert "d.ivanova@" not in event.model_dump_json()


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        names.update(schema.get("properties", {}))
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _property_names(value)
    return names


@pytest.mark.parametrize("event_class", list(EVENT_CLASSES.values()), ids=list(EVENT_CLASSES))
def test_no_event_schema_has_a_place_for_personal_data(event_class: type[BaseModel]) -> None:
    names = _property_names(event_class.model_json_schema())
    assert not {"contact", "email", "e_mail", "phone", "person", "contact_name"} & names


def test_a_naive_occurred_at_is_read_as_utc() -> None:
    payload = _json(examples.match_found())
    payload["occurred_at"] = "2027-03-01T09:30:00"
    event = MatchFound.model_validate(payload)
    assert event.occurred_at == datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    assert event.model_dump_json().count('"occurred_at":"2027-03-01T09:30:00Z"') == 1


def test_an_occurred_at_with_an_offset_is_converted_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    event = examples.match_found().model_copy()
    payload = _json(event)
    payload["occurred_at"] = datetime(2027, 3, 1, 10, 30, tzinfo=cet).isoformat()
    read = MatchFound.model_validate(payload)
    assert read.occurred_at.tzinfo is UTC
    assert read.occurred_at == datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def test_a_naive_datetime_given_in_python_is_stored_as_utc() -> None:
    sent = examples.notification_sent()
    event = NotificationSent.model_validate({**sent.model_dump(), "sent_at": datetime(2027, 3, 1, 12, 0)})
    assert event.sent_at.tzinfo is UTC


def test_events_default_their_id_type_version_and_time() -> None:
    event = examples.match_found()
    assert event.event_type == "match-found"
    assert event.schema_version == 1
    assert event.occurred_at.tzinfo is UTC
    assert event.event_id != examples.match_found().event_id


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"revision": 0}, ("revision",)),
        ({"revision": "first"}, ("revision",)),
        ({"event_id": "not-a-uuid"}, ("event_id",)),
        ({"event_type": "host-answers-submitted"}, ("event_type",)),
        ({"schema_version": 0}, ("schema_version",)),
        ({"occurred_at": "yesterday"}, ("occurred_at",)),
        ({"trigger": "manual"}, ("trigger",)),
        ({"model_version": ""}, ("model_version",)),
        ({"application_id": "APP-1"}, ("application_id",)),
    ],
)
def test_a_match_found_with_a_bad_envelope_is_rejected_at_the_field(
    change: dict[str, Any], loc: tuple[str, ...]
) -> None:
    payload = {**_json(examples.match_found()), **change}
    with pytest.raises(ValidationError) as raised:
        MatchFound.model_validate(payload)
    assert [error["loc"] for error in raised.value.errors()] == [loc]


def _matches(*ranks: int, host_ids: list[str] | None = None) -> list[dict[str, Any]]:
    host_ids = host_ids or [str(uuid4()) for _ in ranks]
    return [
        {"host_id": h, "rank": r, "score": 0.5, "explanation": {"semantic": 0.5}}
        for h, r in zip(host_ids, ranks, strict=True)
    ]


@pytest.mark.parametrize(
    ("matches", "loc", "error_type"),
    [
        (_matches(1, 3), ("matches",), "match_ranks"),
        (_matches(2, 1), ("matches",), "match_ranks"),
        (_matches(1, 1), ("matches",), "match_ranks"),
        (_matches(2, 3), ("matches",), "match_ranks"),
        (_matches(0), ("matches", 0, "rank"), "greater_than_equal"),
        (_matches(1, 2, host_ids=["8d0f0c0e-0b7b-4a4c-9f7c-111111111111"] * 2), ("matches",), "match_hosts_repeated"),
        ([{"host_id": str(uuid4()), "rank": 1, "score": float("nan")}], ("matches", 0, "score"), "finite_number"),
        (
            [{"host_id": str(uuid4()), "rank": 1, "score": 0.4, "explanation": {"Semantic Score": 0.4}}],
            ("matches", 0, "explanation", "Semantic Score", "[key]"),
            "string_pattern_mismatch",
        ),
        ([{"host_id": str(uuid4()), "rank": 1}], ("matches", 0, "score"), "missing"),
        (_matches(*range(1, 102)), ("matches",), "too_long"),
    ],
)
def test_a_match_found_must_rank_each_host_once_from_one(
    matches: list[dict[str, Any]], loc: tuple[Any, ...], error_type: str
) -> None:
    payload = {**_json(examples.match_found()), "matches": matches}
    with pytest.raises(ValidationError) as raised:
        MatchFound.model_validate(payload)
    errors = raised.value.errors()
    assert [error["loc"] for error in errors] == [loc]
    assert errors[0]["type"] == error_type


def test_a_match_found_may_list_no_host() -> None:
    assert examples.match_found(host_ids=[]).matches == []


def test_a_match_found_keeps_the_ranked_order_and_explanations() -> None:
    hosts = [uuid4(), uuid4()]
    event = examples.match_found(host_ids=hosts, trigger="new-host")
    assert [m.host_id for m in event.matches] == hosts
    assert event.matches[0].score > event.matches[1].score
    assert set(event.matches[0].explanation) == {"semantic", "ecosystems", "preferred_country"}


def test_a_host_proposal_cannot_go_to_a_visitor() -> None:
    payload = {
        **_json(examples.notification_sent(kind=NotificationKind.MATCH_PROPOSAL_HOST)),
        "recipient_kind": "visitor",
    }
    with pytest.raises(ValidationError) as raised:
        NotificationSent.model_validate(payload)
    assert [e["loc"] for e in raised.value.errors()] == [("kind",)]


def test_a_match_proposal_must_name_its_match_run() -> None:
    payload = {**_json(examples.notification_sent()), "match_run_id": None}
    with pytest.raises(ValidationError) as raised:
        NotificationSent.model_validate(payload)
    assert [e["loc"] for e in raised.value.errors()] == [("match_run_id",)]


def test_a_digest_needs_no_match_run() -> None:
    assert examples.notification_sent(kind=NotificationKind.DIGEST).match_run_id is None


@pytest.mark.parametrize(
    ("field", "value"), [("recipient_kind", "partnership"), ("kind", "reminder"), ("sent_at", None)]
)
def test_a_notification_with_an_unknown_value_is_rejected_at_the_field(field: str, value: Any) -> None:
    payload = {**_json(examples.notification_sent()), field: value}
    with pytest.raises(ValidationError) as raised:
        NotificationSent.model_validate(payload)
    assert [e["loc"] for e in raised.value.errors()] == [(field,)]


def test_events_are_immutable() -> None:
    event = examples.match_found()
    with pytest.raises(ValidationError):
        event.revision = 2  # type: ignore[misc]


def test_each_event_knows_its_topic_and_key() -> None:
    host = examples.host_answers_submitted()
    assert host.TOPIC == "cx.catalogue.host-answers.v1" and host.key == str(host.host_id)
    visitor = examples.visitor_answers_submitted()
    assert visitor.key == str(visitor.application_id)
    found = examples.match_found()
    assert found.key == str(found.application_id)
    sent = examples.notification_sent()
    assert sent.key == str(sent.recipient_id)


def test_every_event_topic_has_its_event_class_and_the_topic_key_matches() -> None:
    specs = {spec.name: spec for spec in EVENT_TOPICS}
    assert set(TOPIC_EVENTS) == set(specs)
    for topic, carried in TOPIC_EVENTS.items():
        for event_class in carried.values:
            assert event_class.TOPIC == topic and event_class.KEY_FIELD == specs[topic].key
        tombstone_class = carried.withdrawal
        if tombstone_class is not None:
            assert tombstone_class.TOPIC == topic and tombstone_class.KEY_FIELD == specs[topic].key
            assert specs[topic].config["cleanup.policy"] == "compact"
