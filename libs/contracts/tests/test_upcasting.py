"""Compacted topics keep old records for ever: upcasters lift a stored payload to the schema a consumer reads.

Every platform event is at schema_version 1, so each test brings its own later version of MatchFound (a
test-local class) and its own registry, and hands both to parse_event instead of changing the platform's.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from pydantic import Field

from cx_contracts import examples
from cx_contracts.codec import event_headers, event_key, event_value, parse_event
from cx_contracts.errors import ContractError
from cx_contracts.events import MATCH_FOUND_EVENT, TOPIC_EVENTS, MatchFound, TopicEvents
from cx_contracts.topics import MATCH_FOUND
from cx_contracts.upcasters import Upcasters

pytestmark = pytest.mark.unit


class MatchFoundV2(MatchFound):
    """MatchFound as a later release might publish it: version 2 names the scoring weights in a field of their own."""

    SCHEMA_VERSION: ClassVar[int] = 2

    schema_version: int = Field(default=2, ge=1, description="Version of this event's schema.")
    weights: str = Field(min_length=1, description="The scoring weights that produced the scores.")


class MatchFoundRenamed(MatchFound):
    """MatchFound at a version 2 whose version 1 called model_version `model`."""

    SCHEMA_VERSION: ClassVar[int] = 2


def _topics_reading(event_class: type[MatchFound]) -> dict[str, TopicEvents]:
    """The platform's topics, with match-found records read into `event_class`."""
    return {**TOPIC_EVENTS, MATCH_FOUND: TopicEvents(event_class)}


def _model_renamed(payload: dict[str, Any]) -> dict[str, Any]:
    """The step of a version 1 that called model_version `model`."""
    payload["model_version"] = payload.pop("model")
    return payload


def _weights_in_their_own_field() -> Upcasters:
    registry = Upcasters()

    @registry.register(MATCH_FOUND_EVENT, from_version=1)
    def weights_from_model_version(payload: dict[str, Any]) -> dict[str, Any]:
        # Version 1 named the weights after a "+" in model_version ("all-MiniLM-L6-v2+weights-2026.1").
        payload["weights"] = payload["model_version"].partition("+")[2] or "default"
        return payload

    return registry


def test_upcasters_lift_a_payload_step_by_step() -> None:
    registry = Upcasters()

    registry.register("match-found", from_version=1)(_model_renamed)

    @registry.register("match-found", from_version=2)
    def add_trigger(payload: dict[str, Any]) -> dict[str, Any]:
        payload.setdefault("trigger", "new-application")
        return payload

    lifted = registry.upcast("match-found", {"schema_version": 1, "model": "m1"}, to_version=3)
    assert lifted == {"schema_version": 3, "model_version": "m1", "trigger": "new-application"}


def test_an_upcaster_is_registered_once() -> None:
    registry = Upcasters()
    registry.register("match-found", 1)(lambda payload: payload)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("match-found", 1)(lambda payload: payload)


def test_a_missing_upcaster_step_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="no upcaster from schema_version 1 to 2"):
        Upcasters().upcast("match-found", {"schema_version": 1}, to_version=2)


@pytest.mark.parametrize("version", [0, "1", True, None])
def test_a_payload_schema_version_must_be_a_positive_integer(version: Any) -> None:
    with pytest.raises(ContractError, match="schema_version"):
        Upcasters().upcast("match-found", {"schema_version": version}, to_version=1)


def test_a_stored_v1_record_is_read_as_v2_with_the_added_field_filled_by_its_upcaster() -> None:
    stored = examples.match_found()
    value, headers, key = event_value(stored), event_headers(stored), event_key(stored)
    assert json.loads(value or b"")["schema_version"] == 1 and "weights" not in json.loads(value or b"")

    read = parse_event(
        MATCH_FOUND,
        value,
        headers,
        key=key,
        upcasters=_weights_in_their_own_field(),
        topics=_topics_reading(MatchFoundV2),
    )

    assert isinstance(read, MatchFoundV2)
    assert read.schema_version == 2 and read.weights == "weights-2026.1"
    assert (read.event_id, read.match_run_id, read.application_id) == (
        stored.event_id,
        stored.match_run_id,
        stored.application_id,
    )
    assert read.matches == stored.matches and read.model_version == stored.model_version
    # The lifted event is a valid v2 event: it round-trips, and as a v2 record it needs no upcaster at all.
    assert MatchFoundV2.model_validate_json(read.model_dump_json()) == read
    again = parse_event(
        MATCH_FOUND, event_value(read), event_headers(read), upcasters=Upcasters(), topics=_topics_reading(MatchFoundV2)
    )
    assert again == read


def test_a_v1_record_read_by_its_event_type_is_lifted_too() -> None:
    stored = examples.match_found()
    read = parse_event(
        MATCH_FOUND_EVENT,
        event_value(stored),
        upcasters=_weights_in_their_own_field(),
        topics=_topics_reading(MatchFoundV2),
    )
    assert isinstance(read, MatchFoundV2) and read.weights == "weights-2026.1"


def test_a_lifted_payload_is_validated_against_the_later_model() -> None:
    registry = Upcasters()
    registry.register(MATCH_FOUND_EVENT, from_version=1)(lambda payload: payload)  # forgets the added field
    with pytest.raises(ContractError, match="invalid MatchFoundV2") as raised:
        parse_event(
            MATCH_FOUND, event_value(examples.match_found()), upcasters=registry, topics=_topics_reading(MatchFoundV2)
        )
    assert [e["loc"] for e in raised.value.errors] == [["weights"]]


def test_a_v1_record_without_an_upcaster_to_v2_is_a_contract_error_and_the_platform_registry_is_untouched() -> None:
    stored = examples.match_found()
    with pytest.raises(ContractError, match="no upcaster from schema_version 1 to 2"):
        parse_event(MATCH_FOUND, event_value(stored), topics=_topics_reading(MatchFoundV2))
    assert parse_event(MATCH_FOUND, event_value(stored), event_headers(stored)) == stored


def test_parse_event_upcasts_an_older_payload_to_the_current_model() -> None:
    registry = Upcasters()

    registry.register("match-found", from_version=1)(_model_renamed)

    topics = _topics_reading(MatchFoundRenamed)
    old = json.loads(event_value(examples.match_found()) or b"")
    old["model"] = old.pop("model_version")
    read = parse_event(MATCH_FOUND, json.dumps(old), None, upcasters=registry, topics=topics)
    assert isinstance(read, MatchFound) and read.schema_version == 2 and read.model_version == old["model"]
    with pytest.raises(ContractError, match="no upcaster"):
        parse_event(MATCH_FOUND, json.dumps(old), None, topics=topics)
