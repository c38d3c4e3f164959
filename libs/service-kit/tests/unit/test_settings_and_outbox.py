"""Settings refuse short or (in production) missing internal secrets; outbox updates carry state and events together."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cx_kit.kafka import RetryPolicy
from cx_kit.outbox import OUTBOX_FIELD, OutboxEntry, with_outbox
from cx_kit.settings import ServiceSettings

pytestmark = pytest.mark.unit


SECRET = "a-random-secret-of-at-least-32-characters"


def test_production_refuses_to_start_without_an_internal_token(monkeypatch):
    monkeypatch.setenv("CX_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CX_INTERNAL_TOKEN is not set"):
        ServiceSettings()
    monkeypatch.setenv("CX_INTERNAL_TOKEN", SECRET)
    assert ServiceSettings().environment == "production"


@pytest.mark.parametrize("environment", ["production", "development", "test"])
def test_a_short_internal_token_is_refused_in_every_environment(monkeypatch, environment):
    monkeypatch.setenv("CX_ENVIRONMENT", environment)
    monkeypatch.setenv("CX_INTERNAL_TOKEN", "changethis")
    with pytest.raises(ValidationError, match="CX_INTERNAL_TOKEN has 10 characters; a secret needs at least 32"):
        ServiceSettings()


def test_development_warns_that_without_a_token_no_internal_caller_gets_in(monkeypatch):
    monkeypatch.setenv("CX_ENVIRONMENT", "development")
    with pytest.warns(UserWarning, match="refuse every caller"):
        ServiceSettings()


def test_an_outbox_update_keeps_the_state_change_and_appends_events_in_order():
    first = OutboxEntry(event_id="e1", topic="t", key="k", value='{"a": 1}')
    second = OutboxEntry(event_id="e2", topic="t", key="k", value=None)
    update = with_outbox({"$set": {"name": "x"}, "$inc": {"revision": 1}}, first, second)
    assert update["$set"] == {"name": "x"}
    assert update["$inc"] == {"revision": 1}
    assert [e["event_id"] for e in update["$push"][OUTBOX_FIELD]["$each"]] == ["e1", "e2"]
    assert update["$push"][OUTBOX_FIELD]["$each"][1]["value"] is None, "a tombstone stays a null value"


def test_with_outbox_does_not_change_the_update_it_was_given():
    original = {"$set": {"name": "x"}}
    with_outbox(original, OutboxEntry(event_id="e", topic="t", key="k", value="{}"))
    assert original == {"$set": {"name": "x"}}


def test_retry_backoff_grows_exponentially_up_to_its_cap():
    policy = RetryPolicy(max_attempts=6, backoff_initial_s=0.5, backoff_max_s=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
