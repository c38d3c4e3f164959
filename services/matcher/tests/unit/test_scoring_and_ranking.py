"""The blended score, its explanation, keyword normalisation, ranking order, and entering a list."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from cx_contracts import examples
from cx_contracts.events import MatchFound

from cx_matcher.domain.profiles import HostProfile, VisitorProfile, merge_periods, normalise_keyword
from cx_matcher.domain.ranking import MatchPolicy, RankedHost, entered, rank_hosts, would_enter
from cx_matcher.domain.rules import fits
from cx_matcher.domain.runs import (
    application_run_id,
    application_trigger,
    host_run_id,
    match_found,
    model_version,
)
from cx_matcher.domain.scoring import CRITERIA, ScoringWeights, criteria, keyword_coverage, score

pytestmark = pytest.mark.unit

AS_OF = date(2027, 1, 4)


def host(index: int = 0, *, host_id: UUID | None = None, country: str | None = None, **answers: Any) -> HostProfile:
    organisation = examples.host_organisation(index, **({"country": country} if country else {}))
    return HostProfile.from_answers(host_id or uuid4(), 1, organisation, examples.host_answers(index, **answers))


def visitor(index: int = 0, **answers: Any) -> VisitorProfile:
    return VisitorProfile.from_answers(
        uuid4(), 1, examples.visitor_organisation(index), examples.visitor_answers(index, **answers)
    )


@pytest.mark.parametrize("seed", range(5))
def test_the_explanation_values_add_up_to_the_score(seed: int) -> None:
    rng = random.Random(seed)
    weights = ScoringWeights(
        **{name: round(rng.uniform(0, 1), 3) for name in CRITERIA}, semantic_floor=rng.choice([0.0, 0.82])
    )
    for index in range(5):
        for v_index in range(3):
            result = score(visitor(v_index), host(index), rng.uniform(-0.3, 1.0), weights)
            assert list(result.explanation) == list(CRITERIA)
            assert math.isclose(sum(result.explanation.values()), result.score, abs_tol=1e-9)


def test_each_contribution_is_the_criterion_times_its_weight() -> None:
    weights = ScoringWeights(
        semantic=0.5,
        ecosystems=0.2,
        topics=0.1,
        activities=0.1,
        keywords=0.05,
        preferred_country=0.05,
        semantic_floor=0,
    )
    v, h = visitor(0), host(0)
    raw = criteria(v, h, 0.6, 0.0)
    # Visitor 0 wants agri_food+digital (host 0 has both), 2 topics (both offered), 3 activities (all offered),
    # keywords precision farming / data sharing / cluster services (2 of 3 match), and prefers DE (host 0).
    assert raw == {
        "semantic": 0.6,
        "ecosystems": 1.0,
        "topics": 1.0,
        "activities": 1.0,
        "keywords": pytest.approx(2 / 3),
        "preferred_country": 1.0,
    }
    result = score(v, h, 0.6, weights)
    assert result.explanation["semantic"] == 0.3
    assert result.explanation["keywords"] == round(0.05 * 2 / 3, 6)
    assert result.score == pytest.approx(0.3 + 0.2 + 0.1 + 0.1 + 0.05 * 2 / 3 + 0.05, abs=1e-6)


def test_a_negative_similarity_counts_as_nothing_and_offering_more_than_asked_costs_nothing() -> None:
    v = visitor(1)  # wants mobility only
    broad = host(1, ecosystems=["mobility_transport_automotive", "electronics", "digital"])
    narrow = host(1, ecosystems=["mobility_transport_automotive"])
    assert criteria(v, broad, -0.4, 0.0)["semantic"] == 0.0
    assert criteria(v, broad, 0.1, 0.0)["ecosystems"] == criteria(v, narrow, 0.1, 0.0)["ecosystems"] == 1.0


def test_the_semantic_criterion_counts_similarity_from_the_models_floor() -> None:
    v, h = visitor(0), host(0)
    assert criteria(v, h, 0.8, 0.8)["semantic"] == 0.0
    assert criteria(v, h, 0.7, 0.8)["semantic"] == 0.0
    assert criteria(v, h, 0.9, 0.8)["semantic"] == pytest.approx(0.5)
    assert criteria(v, h, 1.0, 0.8)["semantic"] == 1.0
    weights = ScoringWeights(semantic_floor=0.8)
    assert score(v, h, 0.9, weights).explanation["semantic"] == round(weights.semantic * 0.5, 6)
    assert weights.fingerprint() != ScoringWeights(semantic_floor=0.7).fingerprint()


def test_weights_must_be_non_negative_and_not_all_zero() -> None:
    with pytest.raises(ValidationError):
        ScoringWeights(semantic=-0.1)
    with pytest.raises(ValidationError):
        ScoringWeights(**{name: 0 for name in CRITERIA})
    assert ScoringWeights().fingerprint() == ScoringWeights().fingerprint() != ScoringWeights(topics=0.3).fingerprint()


@pytest.mark.parametrize(
    ("raw", "form"),
    [
        ("Recycled Fibres", ("recycled", "fibre")),
        ("CE-marking", ("ce", "marking")),
        ("batteries", ("battery",)),
        ("Économie circulaire", ("economie", "circulaire")),
        ("MDR", ("mdr",)),
        ("process", ("process",)),
    ],
)
def test_keywords_are_compared_without_case_accents_punctuation_or_plural(raw: str, form: tuple[str, ...]) -> None:
    assert normalise_keyword(raw) == form


def test_a_keyword_matches_a_longer_one_that_contains_its_words() -> None:
    wanted = [normalise_keyword("offshore wind"), normalise_keyword("hydrogen")]
    offered = [normalise_keyword("Floating offshore wind"), normalise_keyword("supply chain")]
    assert keyword_coverage(wanted, offered) == 0.5


def test_touching_and_overlapping_periods_are_merged() -> None:
    d = date
    assert merge_periods(
        [
            (d(2027, 3, 8), d(2027, 3, 14)),
            (d(2027, 3, 1), d(2027, 3, 7)),
            (d(2027, 5, 1), d(2027, 5, 9)),
            (d(2027, 5, 5), d(2027, 5, 6)),
        ]
    ) == ((d(2027, 3, 1), d(2027, 3, 14)), (d(2027, 5, 1), d(2027, 5, 9)))


def test_visitor_profiles_survive_their_compact_records() -> None:
    from cx_matcher.adapters.open_applications import profile_from_record, profile_record

    v = visitor(2)
    assert profile_from_record(profile_record(v)) == v


def test_a_list_is_best_first_ranked_from_one_ties_broken_by_host_id_and_cut_at_top_n() -> None:
    v = visitor(0)
    ids = sorted([uuid4() for _ in range(4)], key=str)
    # The same host answers four times: equal scores, so the order is the host ids'.
    twins = [(host(0, host_id=host_id), 0.5) for host_id in reversed(ids)]
    better = (host(0), 0.9)
    ranked = rank_hosts(v, [*twins, better], MatchPolicy(top_n=3, as_of=AS_OF))
    assert [entry.rank for entry in ranked] == [1, 2, 3]
    assert ranked[0].host_id == better[0].host_id
    assert [entry.host_id for entry in ranked[1:]] == ids[:2]
    assert ranked[0].score > ranked[1].score == ranked[2].score


def test_a_host_breaking_a_rule_is_never_listed_however_similar() -> None:
    v = visitor(0)
    same_country = host(0, country="BG")
    ranked = rank_hosts(v, [(same_country, 0.99), (host(0), 0.1)], MatchPolicy(as_of=AS_OF))
    assert [entry.host_id for entry in ranked] != [] and same_country.host_id not in {e.host_id for e in ranked}


def ranked_list(scores: list[float]) -> list[RankedHost]:
    return [RankedHost(host_id=uuid4(), rank=i + 1, score=s, explanation={}) for i, s in enumerate(scores)]


def test_a_host_enters_a_full_list_only_by_beating_its_last_entry() -> None:
    current = ranked_list([0.9, 0.8, 0.7])
    assert would_enter(current, uuid4(), 0.71, top_n=3)
    assert not would_enter(current, uuid4(), 0.69, top_n=3)
    assert would_enter(current[:2], uuid4(), 0.1, top_n=3)  # a list with room takes any host that fits
    assert not would_enter(current, current[0].host_id, 0.99, top_n=3)  # already listed: not entering


def test_entered_names_the_hosts_new_to_a_list() -> None:
    before = ranked_list([0.9, 0.8])
    newcomer = uuid4()
    after = [before[0], RankedHost(host_id=newcomer, rank=2, score=0.85, explanation={})]
    assert entered(before, after, [newcomer, before[0].host_id, uuid4()]) == [newcomer]


def test_run_ids_repeat_for_the_same_trigger_and_differ_otherwise() -> None:
    application, event, other_event = uuid4(), uuid4(), uuid4()
    assert application_run_id(application, 1, event) == application_run_id(application, 1, event)
    assert application_run_id(application, 1, event) != application_run_id(application, 1, other_event)
    a, b = uuid4(), uuid4()
    assert host_run_id(application, 2, [(a, 1), (b, 3)]) == host_run_id(application, 2, [(b, 3), (a, 1)])
    assert host_run_id(application, 2, [(a, 1)]) != host_run_id(application, 2, [(a, 2)])
    assert application_trigger(1) == "new-application"
    assert application_trigger(4) == "revised-application"


def test_a_run_becomes_a_valid_match_found_whose_event_id_follows_the_run() -> None:
    ranked = rank_hosts(visitor(0), [(host(i), 0.5) for i in range(5)], MatchPolicy(as_of=AS_OF))
    run = uuid4()
    first = match_found(
        run_id=run,
        application_id=uuid4(),
        revision=1,
        trigger="new-application",
        model=model_version("all-MiniLM-L6-v2", "abc", 10),
        ranked=ranked,
    )
    again = match_found(
        run_id=run,
        application_id=first.application_id,
        revision=1,
        trigger="new-application",
        model=first.model_version,
        ranked=ranked,
    )
    assert MatchFound.model_validate_json(first.model_dump_json()) == first
    assert first.event_id == again.event_id
    assert [m.rank for m in first.matches] == list(range(1, len(ranked) + 1))


@pytest.mark.parametrize("seed", range(5))
def test_the_lazy_ranking_equals_scoring_every_candidate(seed: int) -> None:
    rng = random.Random(seed)
    policy = MatchPolicy(top_n=5, as_of=AS_OF)
    catalogue = [host(rng.randrange(5), country=rng.choice(["DE", "IT", "LT", "NL", "FR"])) for _ in range(40)]
    for v_index in range(3):
        v = visitor(v_index)
        candidates = sorted(((h, rng.uniform(-0.1, 0.9)) for h in catalogue), key=lambda c: -c[1])
        eager = []
        for h, cosine in candidates:
            if fits(v, h, as_of=AS_OF):
                eager.append((score(v, h, cosine, policy.weights).score, str(h.host_id)))
        eager.sort(key=lambda item: (-item[0], item[1]))
        for ordered in (True, False):
            lazy = rank_hosts(
                v,
                candidates if ordered else rng.sample(candidates, len(candidates)),
                policy,
                by_falling_similarity=ordered,
            )
            assert [(e.score, str(e.host_id)) for e in lazy] == eager[:5]
