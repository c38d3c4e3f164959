"""Which of two matching runs is the latest: the one of the higher application revision, then the one that
happened later, then the larger run id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cx_contracts.examples import match_found

from cx_applications.adapters.matches import latest_matches_document
from cx_applications.domain.matches import run_order

pytestmark = pytest.mark.unit

T = datetime(2027, 3, 1, 9, 30, 0, 1, tzinfo=UTC)


def test_a_later_run_sorts_after_an_earlier_one_to_the_microsecond():
    assert run_order(1, T, "ffff") < run_order(1, T + timedelta(microseconds=1), "0000")


def test_runs_at_the_same_instant_are_ordered_by_run_id():
    assert run_order(1, T, "1a") < run_order(1, T, "2b")


def test_the_same_instant_in_another_offset_sorts_the_same():
    paris = T.astimezone(timezone(timedelta(hours=1)))
    assert run_order(1, paris, "x") == run_order(1, T, "x")


def test_a_run_of_an_older_revision_sorts_before_a_newer_revisions_even_when_it_happened_later():
    assert run_order(2, T + timedelta(hours=1), "ffff") < run_order(3, T, "0000")
    assert run_order(9, T, "x") < run_order(10, T, "x")


def test_every_order_sorts_after_one_stored_before_the_revision_led_it():
    stored_before = f"{T.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|x"
    assert stored_before < run_order(1, T - timedelta(days=365), "0000")


def test_the_kept_document_holds_the_run_and_its_ranked_hosts_with_explanations():
    event = match_found(trigger="new-host", revision=3)
    document = latest_matches_document(event)
    assert document["match_run_id"] == str(event.match_run_id) and document["trigger"] == "new-host"
    assert document["application_revision"] == 3 and document["computed_at"] == event.occurred_at
    assert [m["rank"] for m in document["matches"]] == [1, 2, 3]
    assert document["matches"][0]["explanation"] == event.matches[0].explanation
    assert document["run_order"] == run_order(3, event.occurred_at, str(event.match_run_id))
