"""The open-application store on the real FerretDB: newest versions win, withdrawals (with their revision) and
checkpoints hold."""

from __future__ import annotations

import numpy as np
import pytest

from cx_contracts import examples

from cx_matcher.adapters.open_applications import MongoApplicationStore
from cx_matcher.domain.applications import OpenApplication, WithdrawnApplication
from cx_matcher.domain.profiles import VisitorProfile
from cx_matcher.domain.ranking import RankedHost

pytestmark = pytest.mark.integration


def application(
    index: int, *, partition: int, revision: int = 1, ranked_at: dict[int, int] | None = None, application_id=None
) -> OpenApplication:
    event = examples.visitor_answers_submitted(index, application_id=application_id, revision=revision)
    profile = VisitorProfile.from_answers(event.application_id, revision, event.organisation, event.answers)
    vector = np.random.default_rng(index).standard_normal(384).astype(np.float32)
    host = examples.host_answers_submitted(0).host_id
    return OpenApplication(
        profile=profile,
        vector=vector,
        partition=partition,
        event_id=event.event_id,
        matches=[RankedHost(host_id=host, rank=1, score=0.5, explanation={"semantic": 0.5})],
        ranked_at=ranked_at or {0: 3, 1: 4},
    )


async def test_loading_a_partition_gives_each_application_once_newest_first_without_withdrawn_ones(
    mongo_database,
) -> None:
    store = MongoApplicationStore(mongo_database["open_applications"])
    first = application(0, partition=2)
    revised = application(0, partition=2, revision=2, application_id=first.application_id, ranked_at={0: 5, 1: 4})
    withdrawn = application(1, partition=2)
    elsewhere = application(2, partition=3)
    await store.save([first, withdrawn, elsewhere])
    await store.save([revised])
    await store.withdraw([WithdrawnApplication(withdrawn.application_id, 2, revision=2)])
    await store.mark_checked([2], {0: 9, 1: 2, 2: 7})

    opened, withdrawals = await store.load([2])
    loaded = {app.application_id: app for app in opened}

    assert set(loaded) == {first.application_id}
    assert [(w.application_id, w.partition, w.revision) for w in withdrawals] == [(withdrawn.application_id, 2, 2)]
    held = loaded[first.application_id]
    assert held.revision == 2 and held.profile == revised.profile
    assert np.array_equal(held.vector, revised.vector)
    assert held.matches == revised.matches
    assert held.ranked_at == {0: 9, 1: 4, 2: 7}  # the checkpoint lifts what the version itself said


async def test_compaction_keeps_what_loading_gives(mongo_database) -> None:
    collection = mongo_database["open_applications"]
    store = MongoApplicationStore(collection)
    apps = [application(i, partition=1) for i in range(3)]
    await store.save(apps)
    await store.save(apps[:2])  # a second version of two of them
    withdrawal = WithdrawnApplication(apps[2].application_id, 1, revision=2)
    await store.withdraw([withdrawal])
    await store.mark_checked([1], {0: 1})
    await store.mark_checked([1], {0: 2})
    before = await store.load([1])

    removed = await store.compact([1], [app.stored_as for app in apps[:2]] + [withdrawal.stored_as])

    assert removed == 2 + 1 + 1  # first versions of two, the withdrawn one's version, an old checkpoint
    after = await store.load([1])
    for loaded_before, loaded_after in zip(before, after, strict=True):
        assert {(a.application_id, a.revision, a.stored_as) for a in loaded_after} == {
            (a.application_id, a.revision, a.stored_as) for a in loaded_before
        }
    assert await collection.count_documents({}) == 4  # two versions, the withdrawal, the newest checkpoint


async def test_a_withdrawal_holds_against_older_versions_and_yields_to_newer_ones(mongo_database) -> None:
    store = MongoApplicationStore(mongo_database["open_applications"])
    stale = application(0, partition=4, revision=1)
    await store.withdraw([WithdrawnApplication(stale.application_id, 4, revision=2)])
    await store.save([stale])  # revision 1 stored after its tombstone (revision 2), as a late run would
    opened, withdrawals = await store.load([4])
    assert opened == [] and [w.revision for w in withdrawals] == [2]

    reopened = application(0, partition=4, revision=3, application_id=stale.application_id)
    await store.save([reopened])
    opened, withdrawals = await store.load([4])
    assert [a.revision for a in opened] == [3] and withdrawals == []


async def test_a_withdrawal_written_without_a_revision_still_beats_every_version(mongo_database) -> None:
    collection = mongo_database["open_applications"]
    store = MongoApplicationStore(collection)
    held = application(0, partition=5, revision=3)
    await store.save([held])
    await store.withdraw([WithdrawnApplication(held.application_id, 5, revision=3)])
    await collection.update_many({"kind": "withdrawn"}, {"$unset": {"revision": ""}})  # the format before

    opened, withdrawals = await store.load([5])

    assert opened == []
    assert [(w.application_id, w.revision) for w in withdrawals] == [(held.application_id, 3)]
