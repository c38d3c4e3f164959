"""The embedding model alone: single-text latency and throughput by batch size (no Kafka, no index).

    uv run --no-sync python bench/bench_encode.py [--texts 512]

Texts are generated visitor goals (bench/profiles.py), embedded as the service embeds them, with the
service's own settings (torch threads 2 by default).
"""

from __future__ import annotations

import argparse
import json
import time

import common
import profiles
from cx_matcher.app import load_embedder
from cx_matcher.cli import ApplicationLine
from cx_matcher.domain.profiles import visitor_text
from cx_matcher.settings import Settings


def texts(count: int, offset: int = 50_000) -> list[str]:
    """Generated goals texts, not the ones the other benchmarks embed."""
    return [visitor_text(ApplicationLine.model_validate(profiles.visitor(common.SEED, offset + i)).answers)
            for i in range(count)]


def throughput(embedder, sample: list[str], batch: int) -> float:
    """Texts per second encoding `sample` in batches of `batch`."""
    started = time.perf_counter()
    for start in range(0, len(sample), batch):
        embedder.encode(sample[start:start + batch])
    return len(sample) / (time.perf_counter() - started)


def measure(embedder, count: int) -> dict:
    """Single-text latency percentiles and throughput at batch sizes 1, 8, 32, 64."""
    sample = texts(count)
    embedder.encode(sample[:8])  # warm-up
    single = []
    for text in sample[:200]:
        started = time.perf_counter()
        embedder.encode([text])
        single.append(time.perf_counter() - started)
    return {"single_text": common.percentiles(single),
            "texts_per_second": {f"batch_{b}": round(throughput(embedder, sample, b), 1) for b in (1, 8, 32, 64)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=512)
    args = parser.parse_args()
    settings = Settings(environment="test")
    embedder = load_embedder(settings)
    result = {"machine": common.machine(), "busiest_processes": common.busiest_processes(),
              "encoder_backend": settings.encoder_backend, "encoder_threads": settings.encoder_threads, **measure(embedder, args.texts)}
    common.write_result("encode", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
