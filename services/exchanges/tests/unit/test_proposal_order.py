"""Which run's proposed hosts an application keeps: the higher application revision first, then the later run."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cx_contracts.examples import match_found

from cx_exchanges.adapters.proposals import run_order

pytestmark = pytest.mark.unit


def test_a_run_of_an_older_revision_sorts_before_a_newer_revisions_even_when_it_happened_later() -> None:
    newer = match_found(revision=3)
    older = match_found(revision=2).model_copy(update={"occurred_at": newer.occurred_at + timedelta(minutes=5)})
    assert run_order(older) < run_order(newer)


def test_runs_of_one_revision_sort_as_they_happened() -> None:
    first = match_found(revision=2)
    later = match_found(revision=2).model_copy(update={"occurred_at": first.occurred_at + timedelta(microseconds=1)})
    assert run_order(first) < run_order(later)


def test_every_order_sorts_after_one_kept_before_the_revision_led_it() -> None:
    run = match_found(revision=1)
    assert run.run_order < run_order(run)
