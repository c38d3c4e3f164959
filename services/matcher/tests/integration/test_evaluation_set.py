"""The evaluation set keeps what docs/matching-quality.md claims: the blend beats every baseline, breaks no rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EVALUATION = Path(__file__).resolve().parents[2] / "evaluation" / "evaluate.py"


@pytest.fixture(scope="module")
def evaluation():
    spec = importlib.util.spec_from_file_location("cx_matcher_evaluation", EVALUATION)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_the_blend_beats_every_baseline_on_held_out_applications_without_breaking_a_rule(evaluation, embedder) -> None:
    from cx_matcher.domain.scoring import ScoringWeights

    data = evaluation.load_set()
    context = evaluation.build_context(data, embedder)
    assert evaluation.check_designed_exclusions(context) == []
    test_rows = [i for i, split in enumerate(data.splits) if split == "test"]
    blend = evaluation.evaluate(context, evaluation.blend_ranking(ScoringWeights()), test_rows)
    assert blend.violations == 0
    for name, rank in {
        "overlap": evaluation.overlap_ranking(rules=True),
        "bm25": evaluation.bm25_ranking(rules=True),
        "semantic": evaluation.semantic_ranking(rules=True),
        "semantic without rules": evaluation.semantic_ranking(rules=False),
    }.items():
        assert blend.ndcg > evaluation.evaluate(context, rank, test_rows).ndcg + 0.01, name
