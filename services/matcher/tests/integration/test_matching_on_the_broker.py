"""Answers in, MatchFound out, through the real Kafka and FerretDB with the real model."""

from __future__ import annotations

import math
from uuid import uuid4

import pytest

from cx_contracts import examples
from cx_contracts.events import MatchFound
from cx_contracts.topics import HOST_ANSWERS, VISITOR_ANSWERS
from cx_kit.testing import headers_of, read_topic, wait_until

pytestmark = pytest.mark.integration


def example_hosts() -> list:
    """The five example hosts (DE agri-food, IT mobility, LT health, PT textile, NO offshore wind)."""
    return [examples.host_answers_submitted(index) for index in range(5)]


async def test_a_visitor_answer_gets_one_match_found_with_ranked_explained_hosts_that_keep_the_rules(
    namespace, matcher_settings, run_matcher
) -> None:
    hosts = example_hosts()
    same_country = examples.host_answers_submitted(0, host_id=uuid4())  # agri-food, but in Bulgaria (below)
    same_country = same_country.model_copy(update={"organisation": examples.host_organisation(0, country="BG")})
    await namespace.publish(*hosts, same_country)
    visitor = examples.visitor_answers_submitted(0)  # Sofia FoodTech (BG): farm data sharing
    async with run_matcher(matcher_settings()):
        await namespace.publish(visitor)
        (found,) = await namespace.match_found(count=1)
    assert found.application_id == visitor.application_id
    assert found.trigger == "new-application" and found.revision == 1
    assert found.model_version.startswith("multilingual-e5-small-q4+scoring-")
    listed = [match.host_id for match in found.matches]
    assert listed[0] == hosts[0].host_id  # the farm data-sharing living lab in Germany
    assert same_country.host_id not in listed  # another country is a hard rule
    # The Portuguese textile host offers virtual exchanges only; the visitor accepts physical ones only.
    assert hosts[3].host_id not in listed
    assert [match.rank for match in found.matches] == list(range(1, len(listed) + 1))
    for match in found.matches:
        assert math.isclose(sum(match.explanation.values()), match.score, abs_tol=1e-9)
    assert [m.score for m in found.matches] == sorted((m.score for m in found.matches), reverse=True)


async def test_a_revised_application_is_matched_again_and_a_redelivered_one_is_not(
    namespace, matcher_settings, run_matcher
) -> None:
    await namespace.publish(*example_hosts())
    first = examples.visitor_answers_submitted(1)
    revised = examples.visitor_answers_submitted(
        1,
        application_id=first.application_id,
        revision=2,
        goals="We want to learn how a cluster runs a reskilling academy "
        "for automotive suppliers moving to electric drivetrains.",
    )
    async with run_matcher(matcher_settings()) as app:
        await namespace.publish(first)
        await namespace.match_found(count=1)
        await namespace.publish(first, first)  # the same event delivered again, twice
        await wait_until(lambda: _skipped(app, 1), message="the repeated records to be skipped")
        await namespace.publish(revised)
        runs = await namespace.match_found(count=2)
    assert [(run.trigger, run.revision) for run in runs] == [("new-application", 1), ("revised-application", 2)]
    assert len(await namespace.all_match_found()) == 2


async def _skipped(app, count: int) -> bool:
    return app.state.matcher.matching.stats.visitor_records_skipped >= count


async def test_a_withdrawn_host_never_appears_again(namespace, matcher_settings, run_matcher, http) -> None:
    hosts = example_hosts()
    await namespace.publish(*hosts)
    async with run_matcher(matcher_settings()) as app:
        before = examples.visitor_answers_submitted(0)
        await namespace.publish(before)
        (found,) = await namespace.match_found(count=1)
        assert found.matches[0].host_id == hosts[0].host_id
        await namespace.publish(examples.host_answers_withdrawn(host_id=hosts[0].host_id))
        await wait_until(lambda: _absent(app, hosts[0].host_id), message="the host to leave the index")
        after = examples.visitor_answers_submitted(0)
        await namespace.publish(after)
        (again,) = await namespace.match_found(count=1, where=lambda e: e.application_id == after.application_id)
        async with http(app) as client:
            preview = await client.post(
                "/api/matcher/preview",
                json={
                    "organisation": examples.application_payload(0)["organisation"],
                    "answers": examples.application_payload(0)["answers"],
                    "top": 50,
                },
            )
    assert hosts[0].host_id not in {m.host_id for m in again.matches}
    assert again.matches  # others still fit
    assert preview.status_code == 200
    assert str(hosts[0].host_id) not in {m["host_id"] for m in preview.json()["matches"]}
    runs = await namespace.all_match_found()
    # Withdrawing a host publishes nothing by itself.
    assert sorted(str(r.application_id) for r in runs) == sorted(str(a.application_id) for a in (before, after))


async def _absent(app, host_id) -> bool:
    return host_id not in app.state.matcher.matching.index


async def test_a_malformed_visitor_record_goes_to_the_dead_letter_topic_and_the_next_one_is_matched(
    namespace, matcher_settings, run_matcher, infrastructure
) -> None:
    await namespace.publish(*example_hosts())
    good = examples.visitor_answers_submitted(2)
    bad_key = str(uuid4()).encode()
    async with run_matcher(matcher_settings()):
        await namespace.publish_raw(
            VISITOR_ANSWERS, b'{"event_type": "visitor-answers-submitted", "answers": 7}', key=bad_key
        )
        await namespace.publish(good)
        (found,) = await namespace.match_found(count=1)
        dead = await read_topic(
            infrastructure.kafka_bootstrap,
            namespace.topic(VISITOR_ANSWERS) + ".dlq",
            until=lambda records: len(records) >= 1,
        )
    assert found.application_id == good.application_id
    assert dead[0].key == bad_key
    headers = headers_of(dead[0])
    assert headers["x-dlq-error-type"] == "cx_contracts.errors.ContractError"
    assert headers["x-dlq-source-topic"] == namespace.topic(VISITOR_ANSWERS)


async def test_a_malformed_host_record_is_dead_lettered_once_and_the_catalogue_still_loads(
    namespace, matcher_settings, run_matcher, infrastructure
) -> None:
    hosts = example_hosts()
    await namespace.publish_raw(HOST_ANSWERS, b"not json", key=b"broken-host")
    await namespace.publish(*hosts)
    settings = matcher_settings()
    async with run_matcher(settings) as app:
        assert len(app.state.matcher.matching.index) == 5
    async with run_matcher(matcher_settings(snapshot_dir=None)):  # a replica reading everything again
        pass
    dead = await namespace.read_all(HOST_ANSWERS + ".dlq")
    assert [record.key for record in dead] == [b"broken-host"]


async def test_a_withdrawn_application_is_forgotten(namespace, matcher_settings, run_matcher) -> None:
    await namespace.publish(*example_hosts())
    visitor = examples.visitor_answers_submitted(0)
    async with run_matcher(matcher_settings()) as app:
        matching = app.state.matcher.matching
        await namespace.publish(visitor)
        await namespace.match_found(count=1)
        await wait_until(lambda: _held(app, visitor.application_id, True), message="the application to be held")
        await namespace.publish(examples.visitor_answers_withdrawn(application_id=visitor.application_id))
        await wait_until(lambda: _held(app, visitor.application_id, False), message="the application to go")
        opened, withdrawals = await matching.store.load(range(6))
        assert visitor.application_id not in {a.application_id for a in opened}
        assert visitor.application_id in {w.application_id for w in withdrawals}
    assert len(await namespace.all_match_found()) == 1


async def _held(app, application_id, expected: bool) -> bool:
    return (application_id in app.state.matcher.matching.applications) is expected


async def test_answers_published_before_start_up_are_matched_against_the_whole_catalogue(
    namespace, matcher_settings, run_matcher
) -> None:
    """The visitor subscriber starts only once the host topic has been read to its end."""
    hosts = example_hosts()
    visitor = examples.visitor_answers_submitted(1)  # automotive suppliers: the Italian host fits best
    await namespace.publish(visitor)
    await namespace.publish(*hosts)
    async with run_matcher(matcher_settings()):
        (found,) = await namespace.match_found(count=1)
    assert found.matches and found.matches[0].host_id == hosts[1].host_id
    assert isinstance(found, MatchFound)


async def test_an_application_whose_save_failed_once_is_stored_when_its_batch_is_retried(
    namespace, matcher_settings, run_matcher, monkeypatch, fail_once
) -> None:
    await namespace.publish(*example_hosts())
    visitor = examples.visitor_answers_submitted(0)
    async with run_matcher(matcher_settings()) as app:
        store = app.state.matcher.store
        save, calls = fail_once(store.save, when=lambda applications: bool(applications))
        monkeypatch.setattr(store, "save", save)
        await namespace.publish(visitor)
        # The retried batch publishes its run again: the same run, with the same ids (delivery is at least once).
        runs = await namespace.match_found(count=1)
        assert {(run.application_id, run.match_run_id, run.event_id) for run in runs} == {
            (visitor.application_id, runs[0].match_run_id, runs[0].event_id)
        }

        async def stored() -> bool:
            opened, _ = await store.load(range(6))
            return visitor.application_id in {a.application_id for a in opened}

        await wait_until(stored, timeout=30, message="the retried batch to store the application")
        assert len([applications for (applications,) in calls if applications]) >= 2
        assert visitor.application_id in app.state.matcher.matching.applications
