"""Step for bench_search.py: build the 1M-host HNSW index once (M=32, efConstruction=40) and cache it.

    uv run --no-sync python bench/build_hnsw_1m.py

Takes about 5-10 minutes on 2 cores (both used); writes bench/cache/hnsw-1m.faiss (~1.7 GB) and hnsw-1m.json.
"""

from __future__ import annotations

import json
import time

import common
import faiss


def main() -> None:
    _, base, _, _ = common.load_generated()
    vectors = common.synthesize(base, 1_000_000)
    index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    for start in range(0, len(vectors), 100_000):
        index.add(vectors[start : start + 100_000])
        print(f"{start + 100_000:>9} added, {time.perf_counter() - started:.0f} s", flush=True)
    seconds = time.perf_counter() - started
    faiss.write_index(index, str(common.CACHE / "hnsw-1m.faiss"))
    (common.CACHE / "hnsw-1m.json").write_text(
        json.dumps(
            {
                "build_seconds": round(seconds, 1),
                "m": 32,
                "ef_construction": 40,
                "machine": common.machine(),
                "busiest_processes": common.busiest_processes(),
            },
            indent=2,
        )
    )
    print(f"built 1M HNSW in {seconds:.0f} s")


if __name__ == "__main__":
    main()
