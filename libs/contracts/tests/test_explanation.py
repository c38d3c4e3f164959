"""Why a host fits, in plain words: the biggest contributions first, one sentence per criterion and audience."""

from __future__ import annotations

import pytest

from cx_contracts.explanation import CRITERION_SENTENCES, Reason, reason_sentence, reasons

pytestmark = pytest.mark.unit


def test_reasons_come_highest_contribution_first_with_their_share_of_the_fit() -> None:
    ordered = reasons({"ecosystems": 0.2, "semantic": 0.6, "preferred_country": 0.05, "topics": 0.15})

    assert [r.criterion for r in ordered] == ["semantic", "ecosystems", "topics", "preferred_country"]
    assert [r.share for r in ordered] == [60, 20, 15, 5]


def test_criteria_that_added_nothing_or_counted_against_are_not_reasons() -> None:
    assert reasons({"semantic": 0.5, "keywords": 0.0, "activities": -0.1}) == (Reason("semantic", 100),)


def test_equal_contributions_keep_the_matchers_order_so_a_replay_reads_the_same() -> None:
    ordered = reasons({"topics": 0.1, "activities": 0.1, "semantic": 0.1})

    assert [r.criterion for r in ordered] == ["topics", "activities", "semantic"]


def test_a_tiny_contribution_still_shows_at_least_one_percent() -> None:
    assert reasons({"semantic": 0.999, "keywords": 0.001})[1] == Reason("keywords", 1)


def test_an_empty_explanation_gives_no_reason() -> None:
    assert reasons({}) == ()


def test_every_criterion_the_matcher_explains_has_a_sentence_for_visitor_and_host() -> None:
    criteria = {"semantic", "ecosystems", "topics", "activities", "keywords", "preferred_country"}
    assert set(CRITERION_SENTENCES["visitor"]) == set(CRITERION_SENTENCES["host"]) == criteria
    assert Reason("semantic", 60).sentence("visitor") == "What they can teach is close to what you want to learn."
    assert Reason("semantic", 60).sentence("host") == "Your expertise is close to what they want to learn."


def test_a_criterion_without_a_sentence_still_reads_as_a_reason() -> None:
    assert reason_sentence("shared_language", "host") == "The criterion \u201cshared language\u201d adds to the fit."
