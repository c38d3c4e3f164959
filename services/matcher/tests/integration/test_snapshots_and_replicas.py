"""Snapshots (restore without re-embedding) and two replicas sharing the work on six partitions."""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts import examples
from cx_kit.testing import wait_until

from cx_matcher.adapters.snapshots import SnapshotStore
from cx_matcher.domain.profiles import host_text

pytestmark = pytest.mark.integration


def ranking(run: Any) -> list[tuple[str, float]]:
    return [(str(m.host_id), round(m.score, 4)) for m in run.matches]


async def test_a_replica_restarted_from_a_snapshot_matches_as_before_without_re_embedding_the_catalogue(
    namespace, matcher_settings, run_matcher, counting_embedder
) -> None:
    hosts = [examples.host_answers_submitted(i % 5) for i in range(12)]
    await namespace.publish(*hosts)
    settings = matcher_settings()
    first_model = counting_embedder()
    first = examples.visitor_answers_submitted(0)
    async with run_matcher(settings, model=first_model) as app:
        await namespace.publish(first)
        (before,) = await namespace.match_found(count=1)
        assert len(first_model.texts) == 12 + 1  # every host's expertise, then the visitor's goals
    snapshot_files = SnapshotStore(settings.snapshot_dir).paths()
    assert len(snapshot_files) == 1  # written at shutdown

    late_host = examples.host_answers_submitted(3)  # arrives while the replica is down
    await namespace.publish(late_host)
    second_model = counting_embedder()
    again = examples.visitor_answers_submitted(0)
    async with run_matcher(settings, model=second_model) as app:
        status = app.state.matcher.reader.status
        assert status.restored_from == str(snapshot_files[0]) and status.restored_hosts == 12
        # Only the host that came after the snapshot was embedded.
        assert second_model.texts == [host_text(late_host.answers)]
        assert len(app.state.matcher.matching.index) == 13
        await namespace.publish(again)
        (after,) = await namespace.match_found(count=1, where=lambda e: e.application_id == again.application_id)
    assert ranking(after) == ranking(before)  # the late host (textile, virtual only) does not fit this visitor


async def test_an_unreadable_newest_snapshot_falls_back_to_the_previous_one(
    namespace, matcher_settings, run_matcher
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    settings = matcher_settings()
    async with run_matcher(settings):
        pass
    await namespace.publish(examples.host_answers_submitted(1))
    async with run_matcher(settings):
        pass
    store = SnapshotStore(settings.snapshot_dir)
    newest, previous = store.paths()[:2]
    newest.write_bytes(newest.read_bytes()[:100])  # torn by a crash of the disk
    async with run_matcher(settings) as app:
        status = app.state.matcher.reader.status
        assert status.restored_from == str(previous) and status.restored_hosts == 5
        assert len(app.state.matcher.matching.index) == 6


async def test_two_replicas_side_by_side_each_match_their_share_correctly(
    namespace, matcher_settings, run_matcher, http
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    settings = matcher_settings(snapshot_dir=None)
    visitors = [examples.visitor_answers_submitted(i % 3) for i in range(18)]
    async with run_matcher(settings) as one, run_matcher(settings) as two:
        await wait_until(lambda: _split(one, two), timeout=60, message="both replicas to own partitions")
        await namespace.publish(*visitors)
        runs = await namespace.match_found(count=len(visitors))
        expected = {}
        async with http(one) as client:
            for index in range(3):
                response = await client.post(
                    "/api/matcher/preview",
                    json={
                        "organisation": examples.application_payload(index)["organisation"],
                        "answers": examples.application_payload(index)["answers"],
                        "top": 10,
                    },
                )
                expected[index] = [m["host_id"] for m in response.json()["matches"]]
        shares = (one.state.matcher.matching.stats.visitor_runs, two.state.matcher.matching.stats.visitor_runs)
        assert sorted(one.state.matcher.matching.owned | two.state.matcher.matching.owned) == list(range(6))
        assert not one.state.matcher.matching.owned & two.state.matcher.matching.owned
        assert len(one.state.matcher.matching.index) == len(two.state.matcher.matching.index) == 5
    assert sorted(str(r.application_id) for r in runs) == sorted(str(v.application_id) for v in visitors)
    assert all(share > 0 for share in shares) and sum(shares) == len(visitors)
    for run in runs:
        index = next(i for i, v in enumerate(visitors) if v.application_id == run.application_id) % 3
        assert [str(m.host_id) for m in run.matches] == expected[index]


async def _split(one: Any, two: Any) -> bool:
    a, b = one.state.matcher.matching.owned, two.state.matcher.matching.owned
    return bool(a) and bool(b) and len(a | b) == 6 and not a & b
