"""What the benchmark scripts share: the cache folder, timing summaries, generated data and its embeddings."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from cx_matcher.settings import Settings

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / "cache"
SEED = 7
HOSTS_FILE = CACHE / "hosts-10k.jsonl"
HOST_VECTORS = CACHE / "host-vectors-10k.npy"
VISITORS_FILE = CACHE / "visitors-2k.jsonl"
VISITOR_VECTORS = CACHE / "visitor-vectors-2k.npy"
EMBEDDED_WITH = CACHE / "embedded-with.txt"  # the model the cached vectors come from
HOSTS = 10_000
VISITORS = 2_000

sys.path.insert(0, str(BENCH))


def settings() -> Settings:
    """The matcher's settings as the service reads them (CX_MATCHER_*), in the test environment."""
    from cx_matcher.settings import Settings

    return Settings(environment="test")


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max in milliseconds."""
    values = sorted(seconds)
    pick = lambda q: values[min(len(values) - 1, round(q * (len(values) - 1)))]  # noqa: E731
    return {
        "n": len(values),
        "p50_ms": round(pick(0.50) * 1000, 2),
        "p90_ms": round(pick(0.90) * 1000, 2),
        "p99_ms": round(pick(0.99) * 1000, 2),
        "max_ms": round(values[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def machine() -> dict[str, Any]:
    """Where and under what load a figure was taken."""
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def busiest_processes(count: int = 5) -> list[str]:
    """The processes using most CPU right now (other helpers' tests share this machine)."""
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True, timeout=5)
    except Exception:
        return []
    return [line.strip() for line in out.stdout.splitlines()[1 : count + 1]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_generated() -> tuple[list[dict[str, Any]], np.ndarray, list[dict[str, Any]], np.ndarray]:
    """The 10k generated hosts and 2k visitors with their real embeddings (run prepare_embeddings.py first)."""
    missing = [p for p in (HOSTS_FILE, HOST_VECTORS, VISITORS_FILE, VISITOR_VECTORS, EMBEDDED_WITH) if not p.exists()]
    if missing:
        raise SystemExit(f"missing {', '.join(map(str, missing))}: run bench/prepare_embeddings.py first")
    model = settings().model_name
    if EMBEDDED_WITH.read_text(encoding="utf-8").strip() != model:
        raise SystemExit(f"the cached vectors are not {model}'s: run bench/prepare_embeddings.py again")
    return read_jsonl(HOSTS_FILE), np.load(HOST_VECTORS), read_jsonl(VISITORS_FILE), np.load(VISITOR_VECTORS)


def synthesize(base: np.ndarray, size: int, seed: int = SEED, noise: float = 0.35) -> np.ndarray:
    """`size` unit vectors around real profile embeddings: each is a real one, part of a second one and noise.

    A profile mixing two real profiles' themes, plus isotropic noise of norm ~`noise`: the neighbourhoods stay
    those of real text (low intrinsic dimension), unlike uniformly random vectors, on which approximate
    indexes look far worse than on text (notes/performance.md, A2).
    """
    rng = np.random.default_rng(seed)
    out = np.empty((size, base.shape[1]), dtype=np.float32)
    step = 100_000
    for start in range(0, size, step):
        n = min(step, size - start)
        first = base[rng.integers(0, len(base), n)]
        second = base[rng.integers(0, len(base), n)]
        mix = rng.uniform(0.0, 0.6, size=(n, 1)).astype(np.float32)
        gauss = rng.standard_normal((n, base.shape[1])).astype(np.float32) * (noise / np.sqrt(base.shape[1]))
        block = first + mix * second + gauss
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + n] = block
    return out


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Keep a benchmark's figures as JSON in the cache folder (the doc quotes them)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"result-{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path
