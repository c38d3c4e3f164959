"""Sentence embeddings with sentence-transformers, loaded once per process from a local model folder."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """The embedding model could not be loaded: the service must not start without it."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceEmbedder:
    """A sentence-transformers model on the CPU; `encode` returns unit vectors, one row per text."""

    def __init__(self, model: Any, *, name: str, path: Path, batch_size: int = 32) -> None:
        self._model = model
        self.name = name
        self.path = path
        self.dimension = int(model.get_embedding_dimension())
        self.max_tokens = int(model.max_seq_length)
        self.batch_size = batch_size
        self.calls = 0
        self.texts_encoded = 0
        self._lock = threading.Lock()  # one encode at a time: both cores are already used by one

    @classmethod
    def load(cls, path: Path, *, name: str, torch_threads: int = 0, faiss_threads: int = 1) -> SentenceEmbedder:
        """Load the model in `path` (never from a hub); raise ModelUnavailable naming the path if it cannot."""
        path = Path(path)
        if not path.is_dir():
            raise ModelUnavailable(
                f"embedding model not found: {path} is not a folder (set CX_MATCHER_MODEL_PATH to a "
                "sentence-transformers model folder)"
            )
        described = [path / name for name in ("modules.json", "config.json") if (path / name).is_file()]
        if not described:
            raise ModelUnavailable(f"embedding model unreadable: {path} holds no modules.json or config.json")
        for description in described:
            # Checked before torch is imported, so a broken folder fails in a moment, not after seconds.
            try:
                json.loads(description.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise ModelUnavailable(f"embedding model unreadable: {description}: {error}") from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a model hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        started = time.perf_counter()
        try:
            import faiss
            import torch
            from sentence_transformers import SentenceTransformer

            # FAISS answers one query fastest on one OpenMP thread (docs/benchmarks.md); torch keeps its own.
            faiss.omp_set_num_threads(faiss_threads)
            if torch_threads:
                torch.set_num_threads(torch_threads)
            model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            embedder = cls(model, name=name, path=path)
            probe = embedder.encode(["ClusterXchange start-up check"])
        except ModelUnavailable:
            raise
        except Exception as error:
            raise ModelUnavailable(f"embedding model unreadable: could not load {path}: {error}") from error
        if probe.shape != (1, embedder.dimension) or not np.isfinite(probe).all():
            raise ModelUnavailable(f"embedding model unusable: {path} returned a vector of shape {probe.shape}")
        embedder.calls = embedder.texts_encoded = 0
        logger.info("embedding model loaded", extra={"path": str(path), "dimension": embedder.dimension,
                                                     "seconds": round(time.perf_counter() - started, 2)})
        return embedder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` (float32, shape (len(texts), dimension)); long texts are cut at max_tokens."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self.calls += 1
            self.texts_encoded += len(texts)
            vectors = self._model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class CountingEmbedder:
    """Wraps an embedder and counts the texts it encodes (tests prove a restore re-embeds nothing)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.path = getattr(inner, "path", None)
        self.max_tokens = getattr(inner, "max_tokens", None)
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Encode with the wrapped embedder, remembering the texts."""
        self.texts.extend(texts)
        return self._inner.encode(texts)
