"""Which of two matching runs is the latest: the one that happened later, then the larger run id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cx_contracts.examples import match_found

from cx_applications.adapters.matches import latest_matches_document
from cx_applications.domain.matches import run_order

pytestmark = pytest.mark.unit

T = datetime(2027, 3, 1, 9, 30, 0, 1, tzinfo=UTC)


def test_a_later_run_sorts_after_an_earlier_one_to_the_microsecond():
    assert run_order(T, "ffff") < run_order(T + timedelta(microseconds=1), "0000")


def test_runs_at_the_same_instant_are_ordered_by_run_id():
    assert run_order(T, "1a") < run_order(T, "2b")


def test_the_same_instant_in_another_offset_sorts_the_same():
    paris = T.astimezone(timezone(timedelta(hours=1)))
    assert run_order(paris, "x") == run_order(T, "x")


def test_the_kept_document_holds_the_run_and_its_ranked_hosts_with_explanations():
    event = match_found(trigger="new-host", revision=3)
    document = latest_matches_document(event)
    assert document["match_run_id"] == str(event.match_run_id) and document["trigger"] == "new-host"
    assert document["application_revision"] == 3 and document["computed_at"] == event.occurred_at
    assert [m["rank"] for m in document["matches"]] == [1, 2, 3]
    assert document["matches"][0]["explanation"] == event.matches[0].explanation
    assert document["run_order"] == run_order(event.occurred_at, str(event.match_run_id))
