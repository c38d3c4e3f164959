"""The hard rules, one by one, and checked broadly against an independent day-by-day oracle."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from cx_contracts import examples
from cx_contracts.questionnaire import HostAnswers, VisitorAnswers

from cx_matcher.domain.profiles import HostProfile, VisitorProfile
from cx_matcher.domain.ranking import MatchPolicy, rank_hosts
from cx_matcher.domain.rules import Rule, broken_rules, fits

pytestmark = pytest.mark.unit

AS_OF = date(2027, 1, 4)


def host(index: int = 0, *, country: str | None = None, **answers: Any) -> HostProfile:
    organisation = examples.host_organisation(index, **({"country": country} if country else {}))
    return HostProfile.from_answers(uuid4(), 1, organisation, examples.host_answers(index, **answers))


def visitor(index: int = 0, *, country: str | None = None, **answers: Any) -> VisitorProfile:
    organisation = examples.visitor_organisation(index, **({"country": country} if country else {}))
    return VisitorProfile.from_answers(uuid4(), 1, organisation, examples.visitor_answers(index, **answers))


def test_the_first_example_visitor_may_visit_the_first_example_host() -> None:
    assert broken_rules(visitor(0), host(0), as_of=AS_OF) == []
    assert fits(visitor(0), host(0), as_of=AS_OF)


@pytest.mark.parametrize(
    ("visitor_kwargs", "host_kwargs", "rule"),
    [
        ({"country": "DE"}, {}, Rule.OTHER_COUNTRY),
        ({"excluded_countries": ["DE"], "preferred_countries": ["NL"]}, {}, Rule.NOT_EXCLUDED),
        ({"languages": ["bg", "fr"]}, {}, Rule.SHARED_LANGUAGE),
        ({}, {"formats": ["virtual"]}, Rule.SHARED_FORMAT),
        (
            {"days": 12, "travel_window": {"start": "2027-03-01", "end": "2027-05-28"}},
            {"max_days": 10},
            Rule.LENGTH_ACCEPTED,
        ),
        ({"travel_window": {"start": "2027-07-05", "end": "2027-08-27"}}, {}, Rule.DATES_OVERLAP),
    ],
)
def test_each_hard_rule_alone_excludes_the_host(
    visitor_kwargs: dict[str, Any], host_kwargs: dict[str, Any], rule: Rule
) -> None:
    country = visitor_kwargs.pop("country", None)
    assert broken_rules(visitor(0, country=country, **visitor_kwargs), host(0, **host_kwargs), as_of=AS_OF) == [rule]


def test_a_visitor_bringing_more_participants_than_the_host_receives_at_once_is_never_proposed() -> None:
    small = host(0, capacity=3)
    assert broken_rules(visitor(0, participants=3), small, as_of=AS_OF) == []
    assert broken_rules(visitor(0, participants=4), small, as_of=AS_OF) == [Rule.CAPACITY_LEFT]
    assert not fits(visitor(0, participants=4), small, as_of=AS_OF)


def test_participants_already_taken_on_for_the_visitors_window_use_up_the_capacity() -> None:
    # Accepted exchanges overlapping the visitor's window take their participants out of the capacity.
    host_of_five = host(0, capacity=5)
    assert broken_rules(visitor(0, participants=2), host_of_five, as_of=AS_OF, taken=3) == []
    assert broken_rules(visitor(0, participants=2), host_of_five, as_of=AS_OF, taken=4) == [Rule.CAPACITY_LEFT]
    assert fits(visitor(0, participants=2), host_of_five, as_of=AS_OF, taken=3)
    assert not fits(visitor(0, participants=2), host_of_five, as_of=AS_OF, taken=4)


def test_the_stay_must_fit_in_one_period_both_sides_share() -> None:
    # Host free 1-5 March and 15-19 March 2027 (5 working days each); the visitor wants 8 days.
    split = host(
        0,
        availability=[{"start": "2027-03-01", "end": "2027-03-05"}, {"start": "2027-03-15", "end": "2027-03-19"}],
        max_days=10,
    )
    eight = visitor(0, days=8, travel_window=None)
    assert broken_rules(eight, split, as_of=AS_OF) == [Rule.DATES_OVERLAP]
    five = visitor(0, days=5, travel_window=None)
    assert fits(five, split, as_of=AS_OF)


def test_availability_ranges_that_touch_make_one_period() -> None:
    touching = host(
        0,
        availability=[{"start": "2027-03-01", "end": "2027-03-07"}, {"start": "2027-03-08", "end": "2027-03-14"}],
        max_days=10,
    )
    assert touching.availability == ((date(2027, 3, 1), date(2027, 3, 14)),)
    assert fits(visitor(0, days=10, travel_window=None), touching, as_of=AS_OF)


def test_no_availability_means_any_time_and_no_travel_window_means_any_time() -> None:
    assert fits(visitor(0, travel_window=None), host(0, availability=[]), as_of=AS_OF)
    assert fits(
        visitor(0, travel_window={"start": "2027-09-06", "end": "2027-09-10"}), host(0, availability=[]), as_of=AS_OF
    )


def test_days_before_the_matching_day_do_not_count() -> None:
    # The visitor's window is 15 March - 28 May; matching on 24 May leaves 5 working days, not 10.
    window = {"start": "2027-03-15", "end": "2027-05-28"}
    candidate = host(0, availability=[], max_days=15)
    assert fits(visitor(0, days=5, travel_window=window), candidate, as_of=date(2027, 5, 24))
    assert broken_rules(visitor(0, days=6, travel_window=window), candidate, as_of=date(2027, 5, 24)) == [
        Rule.DATES_OVERLAP
    ]


# -- broad check against an independent oracle ---------------------------------------------------------

COUNTRIES = ["DE", "IT", "LT", "PT", "NO", "BG", "SI", "UA", "FR", "NL"]
LANGUAGES = ["en", "de", "fr", "it", "pl", "lt", "pt", "sl"]


def oracle_breaks(
    v_answers: VisitorAnswers, v_country: str, h_answers: HostAnswers, h_country: str, as_of: date
) -> set[str]:
    """The rules the pair breaks, computed the slow obvious way (every calendar day looked at)."""
    broken = set()
    if v_country == h_country:
        broken.add("other_country")
    if h_country in v_answers.excluded_countries:
        broken.add("not_excluded")
    if not set(v_answers.languages) & set(h_answers.languages):
        broken.add("shared_language")
    if not set(v_answers.formats) & set(h_answers.formats):
        broken.add("shared_format")
    if v_answers.days > h_answers.max_days:
        broken.add("length_accepted")
    if v_answers.participants > h_answers.capacity:
        broken.add("capacity_left")
    # Days after every bounded side's last day cannot help; with no bound on either side any stay fits.
    ends = [r.end for r in h_answers.availability]
    if v_answers.travel_window is not None:
        ends = (
            [min([v_answers.travel_window.end, *ends])] if not ends else [min(max(ends), v_answers.travel_window.end)]
        )
    horizon_end = max(ends) if ends else as_of + timedelta(days=60)

    def host_free(day: date) -> bool:
        return not h_answers.availability or any(r.start <= day <= r.end for r in h_answers.availability)

    def visitor_free(day: date) -> bool:
        window = v_answers.travel_window
        return window is None or window.start <= day <= window.end

    best_run = run = 0
    day = as_of
    while day <= horizon_end:
        if host_free(day) and visitor_free(day):
            run += day.weekday() < 5
            best_run = max(best_run, run)
        else:
            run = 0
        day += timedelta(days=1)
    if best_run < v_answers.days:
        broken.add("dates_overlap")
    return broken


def random_range(rng: random.Random, min_days: int) -> dict[str, str]:
    start = date(2027, 1, 1) + timedelta(days=rng.randrange(0, 600))
    length = rng.randrange(max(5, min_days * 7 // 5 + 2), 120)
    return {"start": start.isoformat(), "end": (start + timedelta(days=length)).isoformat()}


def random_host(rng: random.Random) -> tuple[HostAnswers, str]:
    while True:
        try:
            answers = examples.host_answers(
                rng.randrange(5),
                languages=rng.sample(LANGUAGES, rng.randint(1, 3)),
                formats=rng.sample(["physical", "virtual"], rng.randint(1, 2)),
                availability=[random_range(rng, 3) for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))],
                max_days=rng.randint(3, 22),
                capacity=rng.randint(1, 10),
            )
            return answers, rng.choice(COUNTRIES)
        except ValidationError:
            continue


def random_visitor(rng: random.Random) -> tuple[VisitorAnswers, str]:
    while True:
        days = rng.randint(3, 22)
        excluded = rng.sample(COUNTRIES, rng.choice([0, 0, 1, 2]))
        try:
            answers = examples.visitor_answers(
                rng.randrange(3),
                languages=rng.sample(LANGUAGES, rng.randint(1, 3)),
                formats=rng.sample(["physical", "virtual"], rng.randint(1, 2)),
                days=days,
                travel_window=rng.choice([None, random_range(rng, days)]),
                excluded_countries=excluded,
                preferred_countries=[c for c in rng.sample(COUNTRIES, 2) if c not in excluded],
                participants=rng.randint(1, 8),
            )
            return answers, rng.choice(COUNTRIES)
        except ValidationError:
            continue


@pytest.mark.parametrize("seed", range(8))
def test_the_rules_agree_with_a_day_by_day_oracle_on_random_pairs(seed: int) -> None:
    rng = random.Random(seed)
    as_of = date(2027, 1, 1) + timedelta(days=rng.randrange(0, 300))
    checked = 0
    for _ in range(150):
        h_answers, h_country = random_host(rng)
        v_answers, v_country = random_visitor(rng)
        h = HostProfile.from_answers(uuid4(), 1, examples.host_organisation(country=h_country), h_answers)
        v = VisitorProfile.from_answers(uuid4(), 1, examples.visitor_organisation(country=v_country), v_answers)
        expected = oracle_breaks(v_answers, v_country, h_answers, h_country, as_of)
        assert {rule.value for rule in broken_rules(v, h, as_of=as_of)} == expected
        assert fits(v, h, as_of=as_of) == (not expected)
        checked += 1
    assert checked == 150


@pytest.mark.parametrize("seed", range(4))
def test_a_ranked_list_never_holds_a_host_that_breaks_a_rule_and_misses_none_that_fits(seed: int) -> None:
    rng = random.Random(1000 + seed)
    as_of = date(2027, 2, 1)
    catalogue = []
    for _ in range(60):
        h_answers, h_country = random_host(rng)
        catalogue.append(
            (
                HostProfile.from_answers(uuid4(), 1, examples.host_organisation(country=h_country), h_answers),
                h_answers,
                h_country,
            )
        )
    policy = MatchPolicy(top_n=10, as_of=as_of)
    for _ in range(20):
        v_answers, v_country = random_visitor(rng)
        v = VisitorProfile.from_answers(uuid4(), 1, examples.visitor_organisation(country=v_country), v_answers)
        candidates = [(profile, rng.uniform(-0.2, 0.9)) for profile, _, _ in catalogue]
        ranked = rank_hosts(v, candidates, policy)
        allowed = {
            profile.host_id
            for profile, h_answers, h_country in catalogue
            if not oracle_breaks(v_answers, v_country, h_answers, h_country, as_of)
        }
        assert {entry.host_id for entry in ranked} <= allowed
        assert len(ranked) == min(10, len(allowed))
