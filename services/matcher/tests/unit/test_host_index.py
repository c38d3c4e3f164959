"""The FAISS host index (exact and HNSW) with made-up vectors: search, replace, remove, state round trip."""

from __future__ import annotations

import dataclasses
import json
from uuid import uuid4

import numpy as np
import pytest

from cx_contracts import examples

from cx_matcher.adapters.host_index import HostIndex
from cx_matcher.adapters.snapshots import decode_hosts, encode_hosts
from cx_matcher.domain.profiles import HostChange, HostProfile

pytestmark = pytest.mark.unit

DIMENSION = 16


def unit(rng: np.random.Generator) -> np.ndarray:
    vector = rng.normal(size=DIMENSION).astype(np.float32)
    return vector / np.linalg.norm(vector)


def profile(index: int = 0) -> HostProfile:
    host_id = uuid4()
    return HostProfile.from_answers(host_id, 1, examples.host_organisation(index), examples.host_answers(index))


def revised(host: HostProfile, revision: int) -> HostProfile:
    return dataclasses.replace(host, revision=revision)


@pytest.fixture(params=["flat", "hnsw"])
def index(request: pytest.FixtureRequest) -> HostIndex:
    return HostIndex(DIMENSION, kind=request.param, hnsw_m=8, ef_construction=40, ef_search=64)


def test_search_returns_hosts_by_cosine_best_first(index: HostIndex) -> None:
    rng = np.random.default_rng(1)
    hosts = [(profile(i % 5), unit(rng)) for i in range(40)]
    index.apply([HostChange(p.host_id, p, v, (0, n)) for n, (p, v) in enumerate(hosts)])
    query = hosts[7][1]
    found = index.search(query, 5)
    assert found[0][0].host_id == hosts[7][0].host_id
    assert found[0][1] == pytest.approx(1.0, abs=1e-5)
    similarities = [similarity for _, similarity in found]
    assert similarities == sorted(similarities, reverse=True)
    expected = sorted(((float(query @ v), p.host_id) for p, v in hosts), reverse=True)[:5]
    assert [p.host_id for p, _ in found] == [host_id for _, host_id in expected]


def test_a_replaced_host_is_found_by_its_new_vector_only_and_once(index: HostIndex) -> None:
    rng = np.random.default_rng(2)
    first, other = profile(0), profile(1)
    old, new = unit(rng), unit(rng)
    index.apply([HostChange(first.host_id, first, old), HostChange(other.host_id, other, unit(rng))])
    index.apply([HostChange(first.host_id, revised(first, 2), new)])
    assert len(index) == 2
    found = index.search(old, 10)
    assert [p.host_id for p, _ in found].count(first.host_id) == 1
    assert dict((p.host_id, s) for p, s in found)[first.host_id] == pytest.approx(float(old @ new), abs=1e-5)


def test_a_removed_host_is_never_returned_again(index: HostIndex) -> None:
    rng = np.random.default_rng(3)
    hosts = [(profile(i % 5), unit(rng)) for i in range(20)]
    index.apply([HostChange(p.host_id, p, v) for p, v in hosts])
    gone = hosts[4][0]
    index.apply([HostChange(gone.host_id, None, None)])
    assert gone.host_id not in index
    assert gone.host_id not in {p.host_id for p, _ in index.search(hosts[4][1], 20)}
    assert len(index.search(hosts[4][1], 50)) == 19


def test_a_batch_search_gives_each_vector_what_it_gets_alone_and_what_faiss_finds(index: HostIndex) -> None:
    import faiss

    rng = np.random.default_rng(7)
    hosts = [(profile(i % 5), unit(rng)) for i in range(200)]
    index.apply([HostChange(p.host_id, p, v) for p, v in hosts])
    # Replacements and removals move vectors inside the exact index's storage; ids must follow them.
    index.apply(
        [HostChange(p.host_id, revised(p, 2), unit(rng)) for p, _ in hosts[:30]]
        + [HostChange(p.host_id, None, None, revision=2) for p, _ in hosts[30:60]]
    )
    live = {p.host_id for p, _ in hosts[:30] + hosts[60:]}
    queries = np.vstack([unit(rng) for _ in range(12)])
    for k in (10, 100, 500):
        together = index.search_ids_many(queries, k)
        for query, (ids, similarities) in zip(queries, together, strict=True):
            alone_ids, alone_similarities = index.search_ids(query, k)
            assert ids.tolist() == alone_ids.tolist()
            assert similarities.tolist() == alone_similarities.tolist()
            assert len(ids) == min(k, len(live))
            assert {index.profile_at(i).host_id for i in ids.tolist()} <= live
            assert np.all(np.diff(similarities) <= 0)
            expected = sorted(
                (float(query @ index.vector(index.profile_at(i).host_id)) for i in ids.tolist()), reverse=True
            )
            assert similarities.tolist() == pytest.approx(expected, abs=1e-5)
            if index.kind == "flat":
                exact = faiss.IndexFlatIP(DIMENSION)
                kept = list(live)
                exact.add(np.vstack([index.vector(h) for h in kept]))
                faiss_similarities, _ = exact.search(query.reshape(1, -1), min(k, len(kept)))
                assert similarities.tolist() == pytest.approx(faiss_similarities[0].tolist(), abs=1e-5)


def test_the_newest_record_of_a_host_in_a_batch_decides(index: HostIndex) -> None:
    rng = np.random.default_rng(4)
    p = profile(0)
    index.apply([HostChange(p.host_id, p, unit(rng)), HostChange(p.host_id, None, None, revision=2)])
    assert len(index) == 0 and index.search(unit(rng), 3) == []
    index.apply([HostChange(p.host_id, None, None, revision=4), HostChange(p.host_id, revised(p, 3), unit(rng))])
    assert len(index) == 0 and index.revision_of(p.host_id) == 4
    index.apply([HostChange(p.host_id, None, None, revision=4), HostChange(p.host_id, revised(p, 5), unit(rng))])
    assert len(index) == 1 and index.revision_of(p.host_id) == 5


def test_a_stale_submission_after_a_tombstone_does_not_bring_the_host_back(index: HostIndex) -> None:
    rng = np.random.default_rng(8)
    p, vector = revised(profile(0), 2), unit(rng)
    index.apply([HostChange(p.host_id, p, vector, (0, 0))])
    index.apply([HostChange(p.host_id, None, None, (0, 1), revision=3)])
    changes = index.changes
    applied = index.apply([HostChange(p.host_id, p, vector, (0, 2))])  # revision 2 again, as a second relay sends it
    assert applied == [] and index.changes == changes
    assert p.host_id not in index and index.search(vector, 5) == []
    assert index.revision_of(p.host_id) == 3
    assert index.apply([HostChange(p.host_id, None, None, revision=3)]) == []  # the tombstone again: nothing


def test_a_stale_submission_does_not_replace_a_newer_one(index: HostIndex) -> None:
    rng = np.random.default_rng(9)
    older, newer = profile(0), revised(profile(0), 3)
    older = dataclasses.replace(older, host_id=newer.host_id)
    old_vector, new_vector = unit(rng), unit(rng)
    index.apply([HostChange(newer.host_id, newer, new_vector)])
    assert index.apply([HostChange(older.host_id, revised(older, 2), old_vector)]) == []
    assert index.apply([HostChange(newer.host_id, newer, old_vector)]) == []  # the same revision again
    assert index.profile(newer.host_id) == newer
    assert index.search(new_vector, 1)[0][1] == pytest.approx(1.0, abs=1e-5)


def test_a_tombstone_without_a_revision_removes_and_keeps_the_revision_it_removed(index: HostIndex) -> None:
    rng = np.random.default_rng(10)
    p = revised(profile(0), 4)
    index.apply([HostChange(p.host_id, p, unit(rng))])
    index.apply([HostChange(p.host_id, None, None)])
    assert p.host_id not in index and index.revision_of(p.host_id) == 4
    assert index.apply([HostChange(p.host_id, p, unit(rng))]) == []
    assert p.host_id not in index


def test_the_state_round_trips_without_recomputing_vectors(index: HostIndex) -> None:
    rng = np.random.default_rng(5)
    hosts = [(profile(i % 5), unit(rng)) for i in range(30)]
    index.apply([HostChange(p.host_id, p, v, (n % 3, n)) for n, (p, v) in enumerate(hosts)])
    gone = hosts[0][0]
    index.apply([HostChange(gone.host_id, None, None, revision=2)])
    index.cover({0: 30, 1: 31, 2: 29})
    restored = HostIndex(DIMENSION, ef_search=64)
    restored.restore(*json_round_trip(index))
    assert len(restored) == 29 and restored.offsets == {0: 30, 1: 31, 2: 29}
    query = hosts[9][1]
    assert [(p.host_id, round(s, 5)) for p, s in restored.search(query, 8)] == [
        (p.host_id, round(s, 5)) for p, s in index.search(query, 8)
    ]
    assert restored.profile(hosts[9][0].host_id) == hosts[9][0]
    # The withdrawn host's revision is kept: its stale submission stays out after a restart too.
    assert restored.revision_of(gone.host_id) == 2
    assert restored.apply([HostChange(gone.host_id, gone, hosts[0][1])]) == []
    assert gone.host_id not in restored


def test_a_snapshot_written_before_withdrawn_hosts_were_kept_restores_with_none(index: HostIndex) -> None:
    rng = np.random.default_rng(11)
    hosts = [(profile(i % 5), unit(rng)) for i in range(5)]
    index.apply([HostChange(p.host_id, p, v) for p, v in hosts])
    index.apply([HostChange(hosts[0][0].host_id, None, None, revision=2)])
    header, data = json_round_trip(index)
    del header["withdrawn"]  # the format before
    restored = HostIndex(DIMENSION, ef_search=64)
    restored.restore(header, data)
    assert len(restored) == 4 and restored.revision_of(hosts[0][0].host_id) is None
    assert restored.revision_of(hosts[1][0].host_id) == 1


def json_round_trip(index: HostIndex) -> tuple[dict, np.ndarray]:
    """The index's snapshot state as a snapshot file gives it back (header through JSON, hosts by column)."""
    header, data = index.snapshot_state()
    tables, columns = encode_hosts(header.pop("hosts"))
    header = json.loads(json.dumps(header))
    header["hosts"] = decode_hosts(json.loads(json.dumps(tables)), columns)
    return header, data


def test_changed_since_lists_hosts_read_at_or_after_given_offsets(index: HostIndex) -> None:
    rng = np.random.default_rng(6)
    hosts = [(profile(i % 5), unit(rng)) for i in range(6)]
    index.apply([HostChange(p.host_id, p, v, (n % 2, n)) for n, (p, v) in enumerate(hosts)])
    changed = {p.host_id for p in index.changed_since({0: 3, 1: 5})}
    # Partition 0 holds offsets 0, 2, 4; partition 1 holds 1, 3, 5.
    assert changed == {hosts[4][0].host_id, hosts[5][0].host_id}


def test_snapshot_columns_give_back_equal_profiles_sharing_equal_sets() -> None:
    profiles = [profile(i % 5) for i in range(20)]
    entries = [(i, (i % 6, 100 + i) if i % 4 else None, p) for i, p in enumerate(profiles)]
    tables, columns = encode_hosts(entries)
    decoded = decode_hosts(json.loads(json.dumps(tables)), columns)
    assert decoded == entries
    assert decoded[0][2].languages is decoded[5][2].languages  # host 0 and host 5 answer alike
    assert len(tables["sets"]) < 5 * 5


@pytest.mark.parametrize("with_bookings", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_the_ranker_gives_the_list_an_exhaustive_scoring_of_every_host_gives(seed: int, with_bookings: bool) -> None:
    """Pre-filtering, bound ordering and pool growth change the work done, never the list; nor does a batch,
    with accepted exchanges holding some hosts' capacity or not."""
    import random
    from datetime import date, timedelta

    from cx_contracts.events import ExchangeAccepted

    from cx_matcher.domain.bookings import Bookings
    from cx_matcher.domain.profiles import VisitorProfile
    from cx_matcher.domain.ranker import Ranker
    from cx_matcher.domain.ranking import MatchPolicy
    from cx_matcher.domain.rules import fits, taken_for_window
    from cx_matcher.domain.scoring import score

    rng = random.Random(seed)
    vectors = np.random.default_rng(seed)
    index = HostIndex(DIMENSION)
    hosts = []
    for i in range(300):
        organisation = examples.host_organisation(i % 5, country=rng.choice(["DE", "IT", "LT", "PT", "NO", "BG"]))
        answers = examples.host_answers(
            i % 5,
            languages=rng.sample(["en", "de", "it", "lt", "bg", "pt"], 2),
            formats=rng.sample(["physical", "virtual"], rng.randint(1, 2)),
            max_days=rng.randint(3, 22),
        )
        hosts.append((HostProfile.from_answers(uuid4(), 1, organisation, answers), unit(vectors)))
    index.apply([HostChange(p.host_id, p, v) for p, v in hosts])
    bookings = Bookings()
    if with_bookings:
        for p, _ in rng.sample(hosts, 150):
            start = date(2027, 3, 1) + timedelta(days=rng.randrange(0, 90))
            bookings.apply(
                [
                    examples.exchange_step(
                        ExchangeAccepted,
                        revision=2,
                        host_id=p.host_id,
                        participants=rng.randint(1, p.capacity),
                        dates={"start": start, "end": start + timedelta(days=rng.randrange(0, 30))},
                    )
                ]
            )
    policy = MatchPolicy(top_n=8, as_of=date(2027, 1, 4))
    for pool in (20, 1000):
        ranker = Ranker(index, bookings=bookings, candidate_pool=pool, max_candidate_pool=1000)
        visitors, queries, lists = [], [], []
        for v_index in range(6):
            visitor = VisitorProfile.from_answers(
                uuid4(), 1, examples.visitor_organisation(v_index % 3), examples.visitor_answers(v_index % 3)
            )
            query = unit(vectors)
            expected = sorted(
                (
                    (score(visitor, p, float(query @ v), policy.weights).score, str(p.host_id))
                    for p, v in hosts
                    if fits(
                        visitor,
                        p,
                        as_of=policy.as_of,
                        taken=taken_for_window(visitor, p, bookings.of_host(p.host_id), policy.as_of),
                    )
                ),
                key=lambda item: (-item[0], item[1]),
            )[:8]
            ranked = ranker.rank(visitor, query, policy)
            assert [str(e.host_id) for e in ranked] == [host_id for _, host_id in expected]
            # Scores are rounded to 6 decimals; the last float32 bit of a similarity may differ between a
            # matrix product and a single dot product, moving a rounding by one step.
            assert [e.score for e in ranked] == pytest.approx([s for s, _ in expected], abs=2e-6)
            visitors.append(visitor)
            queries.append(query)
            lists.append(ranked)
        batch = ranker.rank_many(visitors, np.vstack(queries), policy)
        assert [[e.host_id for e in ranked] for ranked in batch] == [[e.host_id for e in ranked] for ranked in lists]
