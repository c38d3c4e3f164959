"""Restore time of the host index from a snapshot of 100k hosts (what a restarting replica does first).

    uv run --no-sync python bench/bench_restore.py [--hosts 100000] [--repeat 5]

The snapshot is written by the service's own code (HostIndex.snapshot_state + SnapshotStore.write) from the
10k generated profiles (cycled, with new ids) and vectors synthesized around their real embeddings; restore
is SnapshotStore.newest_readable + HostIndex.restore, exactly as the host reader runs it at start-up.
The page cache is dropped between runs when the process may (root), so the file is read from disk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import uuid

import common
import numpy as np

from cx_matcher import bootstrap
from cx_matcher.adapters.snapshots import SnapshotStore
from cx_matcher.domain.profiles import HostChange, HostProfile
from cx_matcher.entrypoints.command_line import HostLine


def drop_page_cache() -> bool:
    """Ask the kernel to forget cached file pages (needs root); False when not allowed."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("1\n")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    hosts, base, _, _ = common.load_generated()
    lines = [HostLine.model_validate(h) for h in hosts]
    vectors = common.synthesize(base, args.hosts)
    settings = common.settings()
    index = bootstrap.host_index(settings, base.shape[1])
    changes = []
    for i in range(args.hosts):
        line = lines[i % len(lines)]
        host_id = uuid.UUID(int=i + 1)
        profile = HostProfile.from_answers(host_id, 1, line.organisation, line.answers)
        changes.append(HostChange(host_id, profile, vectors[i], (i % 6, i // 6)))
    index.apply(changes)
    index.cover({p: args.hosts // 6 + 1 for p in range(6)})
    directory = common.CACHE / "restore-snapshots"
    shutil.rmtree(directory, ignore_errors=True)
    store = SnapshotStore(directory, keep=1)
    started = time.perf_counter()
    header, data = index.snapshot_state()
    header.update(model=common.settings().model_name, topic="cx.catalogue.host-answers.v1")
    info = store.write(header, data)
    write_seconds = time.perf_counter() - started
    timings, cold = [], []
    for _ in range(args.repeat):
        cold.append(drop_page_cache())
        started = time.perf_counter()
        found = store.newest_readable(lambda header: None)
        assert found is not None, "the snapshot just written reads back"
        _, read_header, read_bytes = found
        restored = bootstrap.host_index(settings, base.shape[1])
        restored.restore(read_header, read_bytes)
        timings.append(time.perf_counter() - started)
        assert len(restored) == args.hosts
    probe = vectors[123]
    assert [p.host_id for p, _ in restored.search(probe, 10)] == [p.host_id for p, _ in index.search(probe, 10)]
    result = {
        "machine": common.machine(),
        "busiest_processes": common.busiest_processes(),
        "hosts": args.hosts,
        "snapshot_bytes": info.size_bytes,
        "write_seconds": round(write_seconds, 2),
        "restore_seconds": [round(t, 3) for t in timings],
        "restore_median_seconds": round(float(np.median(timings)), 3),
        "page_cache_dropped": all(cold),
    }
    common.write_result("restore", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
