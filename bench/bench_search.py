"""Search latency of the host index at 10k, 100k and 1M hosts: exact (flat) and HNSW, recall@10 of HNSW.

    uv run --no-sync python bench/build_hnsw_1m.py              # once (about 5-10 min): builds and caches 1M HNSW
    uv run --no-sync python bench/bench_search.py [--sizes 10000,100000,1000000]

Vectors: 10k are real embeddings of generated profiles; 100k and 1M are synthesized around them
(common.synthesize). Queries: 500 real embeddings of generated visitor goals. Single queries, one at a time,
on one FAISS thread (the service's setting). HNSW: M=32; recall@10 is measured against the exact index.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import common
import faiss
import numpy as np

EF_SEARCH = (32, 64, 128, 256, 512)
QUERIES = 500


def vectors_for(size: int, base: np.ndarray) -> np.ndarray:
    """The catalogue vectors of a given size."""
    return base[:size] if size <= len(base) else common.synthesize(base, size)


def single_query_latency(
    index: Any, queries: np.ndarray, k: int = 10, limit: int | None = None
) -> tuple[dict[str, float], np.ndarray]:
    """Percentiles of one-at-a-time searches, and the ids found."""
    found = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for row, query in enumerate(queries[:limit] if limit else queries):
        started = time.perf_counter()
        _, ids = index.search(query.reshape(1, -1), k)
        times.append(time.perf_counter() - started)
        found[row] = ids[0]
    return common.percentiles(times), found[: len(times)]


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true 10 nearest found."""
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=False)]))


def hnsw_for(size: int, vectors: np.ndarray) -> tuple[Any, float]:
    """The HNSW index of this size: the cached 1M one, or built now."""
    if size == 1_000_000:
        path = common.CACHE / "hnsw-1m.faiss"
        if not path.exists():
            raise SystemExit("run bench/build_hnsw_1m.py first")
        meta = json.loads((common.CACHE / "hnsw-1m.json").read_text())
        return faiss.read_index(str(path)), meta["build_seconds"]
    index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    faiss.omp_set_num_threads(2)  # building uses both cores, as the build step does
    started = time.perf_counter()
    index.add(vectors)
    faiss.omp_set_num_threads(1)
    return index, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    _, base, _, visitor_vectors = common.load_generated()
    queries = np.ascontiguousarray(visitor_vectors[:QUERIES])
    faiss.omp_set_num_threads(1)
    sizes: dict[str, Any] = {}
    results = {"machine": common.machine(), "busiest_processes": common.busiest_processes(), "sizes": sizes}
    for size in (int(s) for s in args.sizes.split(",")):
        vectors = vectors_for(size, base)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        faiss.omp_set_num_threads(2)
        _, truth = flat.search(queries, 10)  # ground truth in one batch
        faiss.omp_set_num_threads(1)
        flat_latency, _ = single_query_latency(flat, queries, limit=200 if size >= 1_000_000 else None)
        del flat
        hnsw, build_seconds = hnsw_for(size, vectors)
        by_ef: dict[str, Any] = {}
        entry = {"flat": flat_latency, "hnsw_build_seconds": round(build_seconds, 1), "hnsw": by_ef}
        for ef in EF_SEARCH:
            hnsw.hnsw.efSearch = ef
            latency, found = single_query_latency(hnsw, queries)
            by_ef[f"ef{ef}"] = {**latency, "recall_at_10": round(recall_at_10(found, truth), 4)}
        sizes[str(size)] = entry
        print(json.dumps({size: entry}, indent=2), flush=True)
        del hnsw, vectors
    common.write_result("search-" + args.sizes.replace(",", "-"), results)


if __name__ == "__main__":
    main()
