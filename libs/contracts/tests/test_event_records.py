"""Events become Kafka records (key, value, headers) and are read back by parse_event, tombstones included."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import pytest

from cx_contracts import examples
from cx_contracts.codec import (
    HEADER_CONTENT_TYPE,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_REASON,
    HEADER_REVISION,
    HEADER_SCHEMA_VERSION,
    HEADER_TRACEPARENT,
    event_headers,
    event_key,
    event_topic,
    event_value,
    headers_as_text,
    parse_event,
    read_event_headers,
)
from cx_contracts.errors import ContractError
from cx_contracts.events import (
    HostAnswersSubmitted,
    HostAnswersWithdrawn,
    MatchFound,
    VisitorAnswersWithdrawn,
    WithdrawalReason,
)
from cx_contracts.topics import HOST_ANSWERS, MATCH_FOUND, NOTIFICATION_SENT, VISITOR_ANSWERS, dead_letter_topic
from cx_contracts.traceparent import (
    child_traceparent,
    is_valid_traceparent,
    new_traceparent,
    trace_id_of,
    validate_traceparent,
)

pytestmark = pytest.mark.unit

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _record(event: Any, traceparent: str | None = TRACE) -> tuple[str, bytes | None, list[tuple[str, bytes]], bytes]:
    return event_topic(event), event_value(event), event_headers(event, traceparent), event_key(event)


# --- traceparent --------------------------------------------------------------------------------------------


def test_a_new_traceparent_is_valid_w3c_and_sampled() -> None:
    value = new_traceparent()
    assert is_valid_traceparent(value)
    version, trace_id, parent_id, flags = value.split("-")
    assert (version, len(trace_id), len(parent_id), flags) == ("00", 32, 16, "01")
    assert new_traceparent(sampled=False).endswith("-00")
    assert new_traceparent() != value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # version 00 has four fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ],
)
def test_a_malformed_traceparent_is_not_valid(value: str) -> None:
    assert not is_valid_traceparent(value)
    with pytest.raises(ContractError):
        validate_traceparent(value)


def test_a_later_traceparent_version_with_more_fields_is_accepted() -> None:
    assert is_valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")


def test_a_child_traceparent_continues_the_trace_with_a_new_span() -> None:
    child = child_traceparent(TRACE)
    assert trace_id_of(child) == trace_id_of(TRACE)
    assert child != TRACE and child.endswith("-01")
    assert is_valid_traceparent(child_traceparent(None))
    assert is_valid_traceparent(child_traceparent("garbage"))


# --- headers ------------------------------------------------------------------------------------------------


def test_event_headers_carry_the_envelope_and_the_traceparent() -> None:
    event = examples.match_found(revision=4)
    headers = dict(event_headers(event, TRACE))
    assert headers[HEADER_EVENT_ID] == str(event.event_id).encode()
    assert headers[HEADER_EVENT_TYPE] == b"match-found"
    assert headers[HEADER_SCHEMA_VERSION] == b"1"
    assert headers[HEADER_REVISION] == b"4"
    assert headers[HEADER_CONTENT_TYPE] == b"application/json"
    assert headers[HEADER_TRACEPARENT] == TRACE.encode()
    assert all(isinstance(value, bytes) for value in headers.values())


def test_event_headers_start_a_trace_when_none_is_given() -> None:
    headers = dict(event_headers(examples.match_found()))
    assert is_valid_traceparent(headers[HEADER_TRACEPARENT].decode())


def test_event_headers_refuse_a_malformed_traceparent() -> None:
    with pytest.raises(ContractError, match="invalid traceparent"):
        event_headers(examples.match_found(), "not-a-trace")


def test_headers_read_back_from_bytes_pairs_or_a_text_dict() -> None:
    event = examples.notification_sent()
    headers = event_headers(event, TRACE)
    for form in (headers, headers_as_text(headers)):
        read = read_event_headers(form)
        assert read.event_id == event.event_id
        assert read.event_type == "notification-sent"
        assert read.revision == 1 and read.schema_version == 1
        assert read.traceparent == TRACE
        assert read.occurred_at == event.occurred_at


def test_unknown_headers_are_ignored_and_a_bad_traceparent_is_dropped() -> None:
    read = read_event_headers([("x-retry", b"3"), (HEADER_TRACEPARENT, b"junk"), ("empty", None)])
    assert read.traceparent is None and read.event_id is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (HEADER_EVENT_ID, b"12"),
        (HEADER_REVISION, b"two"),
        (HEADER_REVISION, b"0"),
        (HEADER_SCHEMA_VERSION, b"v1"),
        ("occurred_at", b"today"),
        (HEADER_EVENT_TYPE, b"\xff\xfe"),
    ],
)
def test_a_malformed_contract_header_is_a_contract_error(name: str, value: bytes) -> None:
    with pytest.raises(ContractError, match=name):
        read_event_headers([(name, value)])


# --- parse_event --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: examples.host_answers_submitted(4),
        lambda: examples.visitor_answers_submitted(1),
        lambda: examples.match_found(),
        lambda: examples.notification_sent(),
    ],
    ids=["host answers", "visitor answers", "match found", "notification sent"],
)
def test_an_event_round_trips_through_a_kafka_record(make: Any) -> None:
    event = make()
    topic, value, headers, key = _record(event)
    assert parse_event(topic, value, headers, key=key) == event
    assert parse_event(event.event_type, value) == event
    assert parse_event(dead_letter_topic(topic), value, headers) == event
    assert parse_event("staging." + topic, value, headers) == event


@pytest.mark.parametrize("name", ["staging", "Staging.cx.matcher.match-found.v1", "xcx.matcher.match-found.v1"])
def test_a_name_that_only_resembles_a_topic_is_unknown(name: str) -> None:
    with pytest.raises(ContractError, match="unknown topic"):
        parse_event(name, b"{}", None)


@pytest.mark.parametrize("reason", list(WithdrawalReason))
def test_a_host_tombstone_round_trips_through_its_headers(reason: WithdrawalReason) -> None:
    withdrawn = examples.host_answers_withdrawn(revision=5, reason=reason)
    topic, value, headers, key = _record(withdrawn)
    assert value is None
    assert (HEADER_REASON, reason.value.encode()) in headers
    assert HEADER_CONTENT_TYPE not in dict(headers)
    read = parse_event(topic, value, headers, key=key)
    assert read == withdrawn
    assert isinstance(read, HostAnswersWithdrawn) and read.revision == 5 and read.reason is reason


def test_a_visitor_tombstone_round_trips_through_its_headers() -> None:
    withdrawn = examples.visitor_answers_withdrawn(revision=3)
    topic, value, headers, key = _record(withdrawn)
    read = parse_event(topic, value, headers_as_text(headers), key=key.decode())
    assert isinstance(read, VisitorAnswersWithdrawn) and read == withdrawn


def test_a_tombstone_without_headers_still_says_which_aggregate_went() -> None:
    host_id = uuid4()
    first = parse_event(HOST_ANSWERS, None, None, key=str(host_id).encode())
    again = parse_event(HOST_ANSWERS, None, [], key=str(host_id).encode())
    assert isinstance(first, HostAnswersWithdrawn) and first.host_id == host_id
    assert first.revision is None and first.occurred_at is None
    assert first.event_id == again.event_id  # a redelivery deduplicates


def test_a_tombstone_needs_its_key() -> None:
    withdrawn = examples.host_answers_withdrawn()
    with pytest.raises(ContractError, match="record key"):
        parse_event(HOST_ANSWERS, None, event_headers(withdrawn))


def test_a_tombstone_with_a_key_that_is_not_an_id_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="host_id"):
        parse_event(HOST_ANSWERS, None, None, key=b"host-42")


def test_a_tombstone_on_a_topic_that_is_not_compacted_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="cannot be a tombstone"):
        parse_event(MATCH_FOUND, None, None, key=str(uuid4()))
    with pytest.raises(ContractError, match="cannot be a tombstone"):
        parse_event(NOTIFICATION_SENT, None, None, key=str(uuid4()))


def test_a_tombstone_with_another_event_type_header_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="host-answers-withdrawn"):
        parse_event(HOST_ANSWERS, None, [(HEADER_EVENT_TYPE, b"visitor-answers-withdrawn")], key=str(uuid4()))


def test_a_withdrawal_read_by_its_event_type_is_a_tombstone() -> None:
    application_id = uuid4()
    read = parse_event("visitor-answers-withdrawn", None, None, key=application_id)
    assert isinstance(read, VisitorAnswersWithdrawn) and read.application_id == application_id


def test_a_submitted_event_type_with_no_value_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        parse_event("host-answers-submitted", None, None, key=str(uuid4()))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"{}", "invalid MatchFound"),
    ],
)
def test_a_value_that_is_not_an_event_object_is_a_contract_error(value: bytes, match: str) -> None:
    with pytest.raises(ContractError, match=match):
        parse_event(MATCH_FOUND, value, None)


def test_an_invalid_payload_names_the_fields_and_leaves_the_inputs_out() -> None:
    payload = json.loads(event_value(examples.host_answers_submitted(0)) or b"")
    payload["answers"]["capacity"] = 0
    payload["organisation"]["country"] = "h.brueggemann@nordwest-agrifood.example"
    with pytest.raises(ContractError) as raised:
        parse_event(HOST_ANSWERS, json.dumps(payload).encode(), None)
    error = raised.value
    assert isinstance(error, ValueError)
    assert {tuple(e["loc"]) for e in error.errors} == {("answers", "capacity"), ("organisation", "country")}
    assert all("input" not in e for e in error.errors)
    assert "answers.capacity" in str(error)


def test_an_event_of_another_topic_is_a_contract_error() -> None:
    found = examples.match_found()
    with pytest.raises(ContractError, match="does not belong here"):
        parse_event(HOST_ANSWERS, event_value(found), event_headers(found))


def test_a_header_event_type_differing_from_the_payload_is_a_contract_error() -> None:
    event = examples.host_answers_submitted()
    with pytest.raises(ContractError, match="differs from payload"):
        parse_event(HOST_ANSWERS, event_value(event), [(HEADER_EVENT_TYPE, b"host-answers-withdrawn")])


def test_a_record_key_differing_from_the_aggregate_id_is_a_contract_error() -> None:
    event = examples.visitor_answers_submitted()
    with pytest.raises(ContractError, match="record key"):
        parse_event(VISITOR_ANSWERS, event_value(event), None, key=str(uuid4()))


def test_an_unknown_topic_or_event_type_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="unknown topic or event type"):
        parse_event("cx.catalogue.host-answers.v2", b"{}", None)


def test_headers_fill_envelope_fields_a_payload_lacks() -> None:
    event = examples.match_found(revision=2)
    payload = json.loads(event_value(event) or b"")
    for field in ("event_id", "event_type", "revision", "occurred_at", "schema_version"):
        del payload[field]
    read = parse_event(MATCH_FOUND, json.dumps(payload), event_headers(event, TRACE))
    assert read == event


def test_a_payload_without_event_type_on_a_topic_reads_as_the_topics_event() -> None:
    event = examples.host_answers_submitted()
    payload = json.loads(event_value(event) or b"")
    del payload["event_type"]
    assert parse_event(HOST_ANSWERS, json.dumps(payload).encode(), None) == event


def test_a_newer_schema_version_is_read_tolerantly() -> None:
    event = examples.match_found()
    payload = {**json.loads(event_value(event) or b""), "schema_version": 2, "diversity_bonus": 0.1}
    read = parse_event(MATCH_FOUND, json.dumps(payload), None)
    assert isinstance(read, MatchFound) and read.schema_version == 2 and read.matches == event.matches


def test_a_produced_record_carries_the_aggregate_id_as_key() -> None:
    event = examples.host_answers_submitted()
    assert UUID(event_key(event).decode()) == event.host_id
    assert event_topic(event) == HOST_ANSWERS
    assert HostAnswersSubmitted.model_validate_json(event_value(event) or b"") == event
