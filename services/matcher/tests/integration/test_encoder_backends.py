"""The ONNX backend (the default) gives torch's vectors and rankings, caches its graph, and falls back safely.

These load the real all-MiniLM-L6-v2 both ways (torch is imported once here, ~20 s).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cx_matcher.adapters.embedder import OnnxEmbedder, SentenceEmbedder, load_embedder_from
from cx_matcher.domain.ranker import Ranker
from cx_matcher.domain.ranking import MatchPolicy
from cx_matcher.settings import packaged_english_model_path

pytestmark = pytest.mark.integration

MODEL = packaged_english_model_path()


@pytest.fixture(scope="module")
def evaluation_set(evaluation):
    return evaluation, evaluation.load_set()


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceEmbedder:
    embedder = load_embedder_from(MODEL, name="all-MiniLM-L6-v2", backend="torch", threads=2)
    assert embedder.backend == "torch"
    return embedder


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    embedder = load_embedder_from(
        MODEL, name="all-MiniLM-L6-v2", backend="onnx", threads=2, cache_dir=tmp_path_factory.mktemp("encoders")
    )
    assert embedder.backend == "onnx"
    return embedder


def test_both_backends_give_the_same_vectors_for_every_text_of_the_evaluation_set(
    evaluation_set, torch_embedder, onnx_embedder
) -> None:
    from cx_matcher.domain.profiles import host_text, visitor_text

    _, data = evaluation_set
    texts = [host_text(h.answers) for h in data.hosts] + [visitor_text(a.answers) for a in data.applications]
    texts.append("  leading and trailing blanks, then a text far beyond the token limit " + "cluster " * 600)
    expected, got = torch_embedder.encode(texts), onnx_embedder.encode(texts)
    assert got.shape == expected.shape == (len(texts), 384)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(expected * got, axis=1))) >= 0.9999
    # Order of the texts in a call does not change a text's vector (batches are formed by length).
    np.testing.assert_allclose(onnx_embedder.encode(texts[::-1])[::-1], got, atol=1e-5)


def test_both_backends_rank_every_application_of_the_evaluation_set_the_same(
    evaluation_set, torch_embedder, onnx_embedder
) -> None:
    evaluation, data = evaluation_set
    policy = MatchPolicy(top_n=10, as_of=date(2027, 1, 4))
    lists = {}
    for name, embedder in {"torch": torch_embedder, "onnx": onnx_embedder}.items():
        context = evaluation.build_context(data, embedder)
        ranker = Ranker(context.index)
        lists[name] = [
            [entry.host_id for entry in ranker.rank(visitor, vector, policy)]
            for visitor, vector in zip(context.visitors, context.goal_vectors, strict=True)
        ]
    assert sum(len(ranked) for ranked in lists["onnx"]) > 200
    assert lists["onnx"] == lists["torch"]


def test_a_second_load_reads_the_cached_graph_without_importing_torch(tmp_path: Path) -> None:
    cache = tmp_path / "encoders"
    program = (
        "import json, sys; from pathlib import Path\n"
        "from cx_matcher.adapters.embedder import load_embedder_from\n"
        f"e = load_embedder_from(Path({str(MODEL)!r}), name='m', backend='onnx', threads=1,"
        f" cache_dir=Path({str(cache)!r}))\n"
        "print(json.dumps({'backend': e.backend, 'torch': 'torch' in sys.modules,"
        " 'vector': e.encode(['a host in Lyon']).tolist()[0][:5]}))\n"
    )
    runs = [
        json.loads(
            subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True, timeout=300)
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(2)
    ]
    assert [run["backend"] for run in runs] == ["onnx", "onnx"]
    assert [run["torch"] for run in runs] == [True, False]  # exported (and checked) once, then read
    assert runs[0]["vector"] == pytest.approx(runs[1]["vector"], abs=1e-6)
    (entry,) = cache.iterdir()
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["dimension"] == 384 and meta["max_tokens"] == 256 and meta["fidelity_min_cosine"] >= 0.9999


def test_a_damaged_cached_graph_is_exported_again(tmp_path: Path, onnx_embedder) -> None:
    cache = tmp_path / "encoders"
    first = OnnxEmbedder.load(MODEL, name="m", threads=1, cache_dir=cache)
    (entry,) = cache.iterdir()
    (entry / "model.onnx").write_bytes(b"not a graph")
    again = OnnxEmbedder.load(MODEL, name="m", threads=1, cache_dir=cache)
    assert (entry / "model.onnx").stat().st_size > 1_000_000
    np.testing.assert_allclose(again.encode(["a text"]), first.encode(["a text"]), atol=1e-6)


def test_a_model_the_onnx_path_cannot_reproduce_is_encoded_with_torch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, torch_embedder
) -> None:
    # The same weights without the Normalize module: not the pipeline the ONNX path reproduces.
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    modules = json.loads((model / "modules.json").read_text())
    (model / "modules.json").write_text(json.dumps([m for m in modules if not m["type"].endswith("Normalize")]))
    from cx_matcher.adapters import embedder as module

    loads = []
    load = module._load_sentence_transformer
    monkeypatch.setattr(
        module, "_load_sentence_transformer", lambda *args, **kwargs: loads.append(args) or load(*args, **kwargs)
    )
    with caplog.at_level(logging.WARNING, logger="cx_matcher.adapters.embedder"):
        embedder = load_embedder_from(model, name="m", backend="onnx", threads=2, cache_dir=tmp_path / "cache")
    assert embedder.backend == "torch"
    assert len(loads) == 1, "the torch model loaded to check the ONNX path is the one used"
    assert any("encoding with torch" in record.getMessage() for record in caplog.records)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    vectors = embedder.encode(["a host in Lyon"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
