"""Ranking at 10k hosts: time per application, and how often the candidate pool changes a list.

    uv run --no-sync python bench/bench_ranking.py [--applications 500]

The matcher scores the `candidate_pool` hosts closest by similarity (500 by default) and the hosts outside it
that could still enter the list (growing the pool up to `max_candidate_pool` only when those are many). This
compares its lists with
an exhaustive ranking of all 10k hosts on the generated data with real embeddings, and times both (service
settings, one FAISS thread).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date

import common
import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from cx_matcher import bootstrap
from cx_matcher.domain.profiles import HostChange, HostProfile, VisitorProfile
from cx_matcher.domain.ranker import Ranker
from cx_matcher.domain.ranking import MatchPolicy
from cx_matcher.entrypoints.command_line import ApplicationLine, HostLine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--pool", type=int, default=500, help="first candidate pool of the ranking compared")
    parser.add_argument("--max-pool", type=int, default=5000, help="largest candidate pool")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    threadpool_limits(1, user_api="blas")  # as the service does
    hosts, host_vectors, visitors, visitor_vectors = common.load_generated()
    index = bootstrap.host_index(common.settings(), host_vectors.shape[1])
    lines = [HostLine.model_validate(h) for h in hosts]
    index.apply(
        [
            HostChange(line.host_id, HostProfile.from_answers(line.host_id, 1, line.organisation, line.answers), vector)
            for line, vector in zip(lines, host_vectors, strict=True)
        ]
    )
    policy = MatchPolicy(top_n=10, as_of=date(2027, 1, 4))
    pooled = Ranker(index, candidate_pool=args.pool, max_candidate_pool=args.max_pool)
    exhaustive = Ranker(index, candidate_pool=len(index), max_candidate_pool=len(index))
    apps = [ApplicationLine.model_validate(v) for v in visitors[: args.applications]]
    profiles = [VisitorProfile.from_answers(a.application_id, 1, a.organisation, a.answers) for a in apps]
    timings: dict[str, list[float]] = {"pool": [], "exhaustive": []}
    same, overlap, shorter = 0, [], 0
    for profile, vector in zip(profiles, visitor_vectors, strict=False):
        started = time.perf_counter()
        mine = pooled.rank(profile, vector, policy)
        timings["pool"].append(time.perf_counter() - started)
        started = time.perf_counter()
        full = exhaustive.rank(profile, vector, policy)
        timings["exhaustive"].append(time.perf_counter() - started)
        mine_ids, full_ids = [e.host_id for e in mine], [e.host_id for e in full]
        same += mine_ids == full_ids
        if full_ids:
            overlap.append(len(set(mine_ids) & set(full_ids)) / len(full_ids))
        shorter += len(mine_ids) < len(full_ids)
    # As the service ranks a batch of answers: one matrix product for the batch's first pools.
    vectors = np.ascontiguousarray(visitor_vectors[: len(profiles)])
    pooled.rank_many(profiles[:32], vectors[:32], policy)
    started = time.perf_counter()
    batched = [
        lst
        for start in range(0, len(profiles), 32)
        for lst in pooled.rank_many(profiles[start : start + 32], vectors[start : start + 32], policy)
    ]
    batch_ms = 1000 * (time.perf_counter() - started) / len(profiles)
    alone = [pooled.rank(profile, vector, policy) for profile, vector in zip(profiles, vectors, strict=True)]
    same_in_batches = sum([e.host_id for e in a] == [e.host_id for e in b] for a, b in zip(batched, alone, strict=True))
    result = {
        "machine": common.machine(),
        "busiest_processes": common.busiest_processes(),
        "hosts": len(index),
        "candidate_pool": args.pool,
        "max_candidate_pool": args.max_pool,
        "applications": len(profiles),
        "identical_top10_share": round(same / len(profiles), 4),
        "mean_top10_overlap": round(float(np.mean(overlap)), 4),
        "lists_shorter_than_exhaustive": shorter,
        "rank_time": {name: common.percentiles(values) for name, values in timings.items()},
        "batches_of_32_mean_ms_per_application": round(batch_ms, 2),
        "batched_lists_identical_to_one_at_a_time": same_in_batches,
    }
    common.write_result(f"ranking-pool{args.pool}-max{args.max_pool}", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
