"""An older revision delivered after a newer one or after its tombstone, as a second outbox relay would publish it,
changes nothing: on the real Kafka and FerretDB, with the real model, across restarts and snapshots."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from cx_contracts import examples
from cx_kit.testing import wait_until

pytestmark = pytest.mark.integration


async def _read_through(app: Any, records: int) -> bool:
    """True once the replica's index covers `records` host records (the topic's whole length here)."""
    return sum(app.state.matcher.matching.index.offsets.values()) >= records


async def _skipped(app: Any, count: int) -> bool:
    return app.state.matcher.matching.stats.visitor_records_skipped >= count


async def _owns_partitions(app: Any) -> bool:
    return bool(app.state.matcher.matching.owned)


async def _held(app: Any, application_id: UUID, expected: bool) -> bool:
    return (application_id in app.state.matcher.matching.applications) is expected


async def test_a_host_revision_published_again_after_its_tombstone_is_never_proposed(
    namespace, matcher_settings, run_matcher
) -> None:
    target = examples.host_answers_submitted(0, revision=2)  # the farm data-sharing lab: visitor 0's best fit
    others = [examples.host_answers_submitted(index) for index in range(1, 5)]
    await namespace.publish(*others, target)
    settings = matcher_settings()
    held = examples.visitor_answers_submitted(0)
    async with run_matcher(settings) as app:
        await namespace.publish(held)
        (found,) = await namespace.match_found(count=1)
        assert found.matches[0].host_id == target.host_id
        await namespace.publish(examples.host_answers_withdrawn(host_id=target.host_id, revision=3))
        await namespace.publish(target)  # revision 2 again, after its tombstone
        await wait_until(lambda: _read_through(app, 7), message="the host records to be read")
        assert target.host_id not in app.state.matcher.matching.index
        after = examples.visitor_answers_submitted(0)
        await namespace.publish(after)
        (again,) = await namespace.match_found(count=1, where=lambda e: e.application_id == after.application_id)
        assert again.matches and target.host_id not in {m.host_id for m in again.matches}

    await namespace.publish(target)  # once more while no replica runs: read after the shutdown snapshot
    async with run_matcher(settings) as app:
        assert app.state.matcher.reader.status.restored_from is not None
        await wait_until(lambda: _read_through(app, 8), message="the host records to be read")
        assert target.host_id not in app.state.matcher.matching.index
    async with run_matcher(matcher_settings(snapshot_dir=None)) as app:  # a replica reading the topic from its start
        assert target.host_id not in app.state.matcher.matching.index
        assert len(app.state.matcher.matching.index) == 4

    runs = await namespace.all_match_found()
    # No new-host run for the held visitor: the stale record never arrived as a host.
    assert sorted(str(run.application_id) for run in runs) == sorted(str(v.application_id) for v in (held, after))


async def test_a_stale_host_revision_does_not_replace_a_newer_one(namespace, matcher_settings, run_matcher) -> None:
    older = examples.host_answers_submitted(0, revision=1)
    newer = examples.host_answers_submitted(0, host_id=older.host_id, revision=2, capacity=7)
    await namespace.publish(newer, older)
    async with run_matcher(matcher_settings()) as app:
        profile = app.state.matcher.matching.index.profile(newer.host_id)
    assert profile is not None and (profile.revision, profile.capacity) == (2, 7)


async def test_an_application_revision_published_again_after_its_tombstone_gets_no_match_found(
    namespace, matcher_settings, run_matcher
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(index) for index in range(5)))
    first = examples.visitor_answers_submitted(0)
    settings = matcher_settings()
    async with run_matcher(settings) as app:
        await namespace.publish(first)
        await namespace.match_found(count=1)
        await wait_until(lambda: _held(app, first.application_id, True), message="the application to be held")
        await namespace.publish(examples.visitor_answers_withdrawn(application_id=first.application_id, revision=2))
        await wait_until(lambda: _held(app, first.application_id, False), message="the application to go")
        await namespace.publish(first)  # revision 1 again, after its tombstone
        await wait_until(lambda: _skipped(app, 1), message="the stale record to be skipped")
        assert first.application_id not in app.state.matcher.matching.applications

    # The next owner of the partition (here: the replica restarted) knows the withdrawal from the store.
    async with run_matcher(settings) as app:
        await wait_until(lambda: _owns_partitions(app), message="the replica to own partitions")
        await namespace.publish(first)
        await wait_until(lambda: _skipped(app, 1), message="the stale record to be skipped")
        assert first.application_id not in app.state.matcher.matching.applications

    runs = [run for run in await namespace.all_match_found() if run.application_id == first.application_id]
    assert [(run.trigger, run.revision) for run in runs] == [("new-application", 1)]
