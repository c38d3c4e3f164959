"""The exchange events: every step of an exchange on one topic, keyed by exchange, read back as its own event."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cx_contracts import examples
from cx_contracts.codec import event_headers, event_key, event_topic, event_value, parse_event
from cx_contracts.errors import ContractError
from cx_contracts.events import (
    EXCHANGE_STEPS,
    ExchangeAccepted,
    ExchangeAgreed,
    ExchangeRequested,
    ExchangeStep,
    ExchangeWithdrawn,
)
from cx_contracts.exchange import ExchangeState
from cx_contracts.topics import EXCHANGE_EVENTS, dead_letter_topic

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("step", EXCHANGE_STEPS, ids=lambda step: step.EVENT_TYPE)
def test_each_step_goes_on_the_exchange_topic_keyed_by_its_exchange_and_reads_back_as_itself(
    step: type[ExchangeStep],
) -> None:
    event = examples.exchange_step(step, revision=3)
    assert event_topic(event) == EXCHANGE_EVENTS
    assert event_key(event) == str(event.exchange_id).encode()
    read = parse_event(EXCHANGE_EVENTS, event_value(event), event_headers(event), key=event_key(event))
    assert type(read) is step and read == event
    assert parse_event(dead_letter_topic("t1." + EXCHANGE_EVENTS), event_value(event), key=event_key(event)) == event


def test_a_step_read_without_headers_is_told_apart_by_its_event_type() -> None:
    event = examples.exchange_step(ExchangeAccepted, revision=2)
    assert isinstance(parse_event(EXCHANGE_EVENTS, event_value(event)), ExchangeAccepted)


def test_an_event_type_that_is_no_step_of_an_exchange_is_refused() -> None:
    payload = json.loads(event_value(examples.exchange_step()) or b"")
    payload["event_type"] = "match-found"
    with pytest.raises(ContractError, match="does not belong here"):
        parse_event(EXCHANGE_EVENTS, json.dumps(payload))


def test_a_header_naming_another_step_than_the_payload_is_refused() -> None:
    event = examples.exchange_step(ExchangeAccepted, revision=2)
    headers = [(name, b"exchange-declined" if name == "event_type" else value) for name, value in event_headers(event)]
    with pytest.raises(ContractError, match="differs from payload"):
        parse_event(EXCHANGE_EVENTS, event_value(event), headers)


def test_a_step_states_the_state_it_leaves_the_exchange_in() -> None:
    with pytest.raises(ValidationError, match="exchange_step_state"):
        examples.exchange_step(ExchangeAccepted, state=ExchangeState.REQUESTED)


def test_an_agreement_carries_its_grant_and_a_withdrawal_who_withdrew_from_where() -> None:
    with pytest.raises(ValidationError, match="grant"):
        ExchangeAgreed.model_validate(examples.exchange_step(ExchangeRequested).model_dump() | {"state": "agreed"})
    withdrawn = examples.exchange_step(ExchangeWithdrawn, revision=3)
    assert withdrawn.withdrawn_by == "visitor" and withdrawn.previous_state is ExchangeState.ACCEPTED


def test_no_step_carries_free_text_the_two_sides_wrote() -> None:
    for step in EXCHANGE_STEPS:
        fields = set(step.model_fields)
        assert not fields & {"message", "goals", "agenda", "report", "learnt", "follow_up", "reason", "contacts"}
