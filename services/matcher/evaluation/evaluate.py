"""Matching quality on the labelled evaluation set: nDCG@10 and hard-rule violations of four ways to rank.

    uv run --no-sync python services/matcher/evaluation/evaluate.py            # report (markdown) to stdout
    uv run --no-sync python services/matcher/evaluation/evaluate.py --search   # also choose weights on dev
    uv run --no-sync python services/matcher/evaluation/evaluate.py --write-jsonl DIR   # files for cx-matcher rank

Rankers compared (all see the same 60 hosts and 36 applications):
- overlap: what a form-comparing tool does: Jaccard overlap of ecosystems, topics, activities and keyword tags;
- bm25: keyword ranking of the host's expertise and keywords for the visitor's goals and keywords (rank-bm25);
- semantic: cosine of the goals' and the expertise's embeddings (all-MiniLM-L6-v2) alone;
- blend: the matcher itself (cx_matcher.domain.ranker.Ranker: hard rules, then the weighted blend).
Each baseline is also shown with the hard rules applied as a filter, so the blend's gain is not only the rules'.
Relevance: graded 0-3 per (application, host) in applications.yaml; a host a hard rule excludes counts 0.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import numpy as np
import yaml
from rank_bm25 import BM25Okapi

from cx_matcher import bootstrap
from cx_matcher.domain.profiles import HostChange, HostProfile, VisitorProfile, host_text, visitor_text
from cx_matcher.domain.ranker import Ranker, SearchIndex
from cx_matcher.domain.ranking import MatchPolicy
from cx_matcher.domain.rules import broken_rules, fits
from cx_matcher.domain.scoring import CRITERIA, ScoringWeights, criteria
from cx_matcher.entrypoints.command_line import ApplicationLine, HostLine
from cx_matcher.settings import Settings

HERE = Path(__file__).resolve().parent
AS_OF = date(2027, 1, 4)
K = 10

# Weights searched on the dev split: semantic fixed at 1, the others relative to it; normalised to sum 1.
GRID = {
    "ecosystems": [0.0, 0.1, 0.2, 0.3, 0.4],
    "topics": [0.0, 0.1, 0.2, 0.3],
    "activities": [0.0, 0.05, 0.1, 0.2],
    "keywords": [0.0, 0.1, 0.2, 0.3],
    "preferred_country": [0.0, 0.05, 0.1],
}

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
    )


def write_jsonl(data: EvaluationSet, directory: Path) -> None:
    """hosts.jsonl and applications.jsonl in the shape `cx-matcher rank` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "hosts.jsonl", "w", encoding="utf-8") as file:
        for line in data.hosts:
            file.write(line.model_dump_json() + "\n")
    with open(directory / "applications.jsonl", "w", encoding="utf-8") as file:
        for line in data.applications:
            file.write(line.model_dump_json() + "\n")


# -- metrics -------------------------------------------------------------------------------------------


def ndcg(ranked: Sequence[UUID], gains: dict[UUID, int], k: int = K) -> float:
    """nDCG@k with gains 2^grade - 1 and the ideal list built from every judged host."""
    dcg = sum((2 ** gains.get(host, 0) - 1) / math.log2(position + 2) for position, host in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum((2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(ideal))
    return dcg / best if best else 0.0


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


def build_context(data: EvaluationSet, embedder: Any, settings: Settings | None = None) -> Context:
    """Embed the set once; profiles, rules and the index and ranker the live service would build."""
    host_profiles = [HostProfile.from_answers(h.host_id, 1, h.organisation, h.answers) for h in data.hosts]
    visitors = [VisitorProfile.from_answers(a.application_id, 1, a.organisation, a.answers) for a in data.applications]
    started = time.perf_counter()
    host_vectors = embedder.encode([host_text(h.answers) for h in data.hosts])
    goal_vectors = embedder.encode([visitor_text(a.answers) for a in data.applications])
    encode_seconds = time.perf_counter() - started
    allowed = np.array([[fits(v, h, as_of=AS_OF) for h in host_profiles] for v in visitors])
    effective = []
    for row, grades in enumerate(data.grades):
        effective.append(
            {
                host: grade
                for host, grade in grades.items()
                if allowed[row, [h.host_id for h in host_profiles].index(host)]
            }
        )
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


def semantic_ranking(rules: bool) -> Ranking:
    """Cosine of embeddings alone."""

    def rank(context: Context, row: int) -> list[UUID]:
        return _top(context, context.cosines[row], row, rules=rules)

    return rank


def blend_ranking(weights: ScoringWeights, *, rules: bool = True) -> Ranking:
    """The matcher's own Ranker (rules on), or the same blend with rules ignored (an ablation)."""

    def rank(context: Context, row: int) -> list[UUID]:
        if rules:
            ranked = context.ranker.rank(
                context.visitors[row], context.goal_vectors[row], MatchPolicy(weights=weights, top_n=K, as_of=AS_OF)
            )
            return [entry.host_id for entry in ranked]
        raw = raw_criteria(context)[row]
        return _top(context, raw @ np.array([getattr(weights, c) for c in CRITERIA]), row, rules=False)

    return rank


_RAW: dict[int, np.ndarray] = {}


def raw_criteria(context: Context) -> np.ndarray:
    """applications x hosts x criteria: each criterion's raw value (the score before weights)."""
    cached = _RAW.get(id(context))
    if cached is None:
        cached = np.array(
            [
                [
                    [criteria(v, h, float(context.cosines[r, c]))[name] for name in CRITERIA]
                    for c, h in enumerate(context.host_profiles)
                ]
                for r, v in enumerate(context.visitors)
            ]
        )
        _RAW[id(context)] = cached
    return cached


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
    ids = [p.host_id for p in context.host_profiles]
    scores, top1, violations, apps_with = [], 0, 0, 0
    for row in rows:
        ranked = rank(context, row)
        gains = context.effective[row]
        scores.append(ndcg(ranked, gains))
        best = max(gains.values(), default=0)
        top1 += bool(ranked) and best > 0 and gains.get(ranked[0], 0) == best
        broken = sum(1 for host in ranked if not context.allowed[row, ids.index(host)])
        violations += broken
        apps_with += broken > 0
    return Result(float(np.mean(scores)), top1 / len(rows), violations, apps_with, len(rows))


def search_weights(context: Context, rows: Sequence[int]) -> list[tuple[float, ScoringWeights]]:
    """Every grid point's mean nDCG@10 on `rows` (rules applied), best first."""
    raw = raw_criteria(context)
    ids = [p.host_id for p in context.host_profiles]
    id_order = np.argsort(np.array([str(i) for i in ids]))
    tie_rank = np.empty(len(ids), dtype=np.int64)
    tie_rank[id_order] = np.arange(len(ids))
    results = []
    names = list(GRID)
    for values in itertools.product(*(GRID[name] for name in names)):
        relative = {"semantic": 1.0, **dict(zip(names, values, strict=True))}
        total = sum(relative.values())
        weights = ScoringWeights(**{name: round(value / total, 4) for name, value in relative.items()})
        vector = np.array([getattr(weights, c) for c in CRITERIA])
        scores = []
        for row in rows:
            blended = raw[row] @ vector
            order = np.lexsort((tie_rank, -np.round(blended, 6)))
            ranked = [ids[i] for i in order if context.allowed[row, i]][:K]
            scores.append(ndcg(ranked, context.effective[row]))
        results.append((float(np.mean(scores)), weights))
    results.sort(key=lambda item: (-item[0], item[1].non_semantic_total))
    return results


def table(context: Context, rankers: dict[str, Ranking], splits: dict[str, list[int]]) -> str:
    """The markdown table of every ranker on every split."""
    lines = [
        "| ranker | " + " | ".join(f"nDCG@10 {s}" for s in splits) + " | top-1 best (all) "
        "| rule violations in top 10 (all) | applications with a violation (all) |",
        "|---|" + "---|" * (len(splits) + 3),
    ]
    for name, rank in rankers.items():
        results = {split: evaluate(context, rank, rows) for split, rows in splits.items()}
        everything = results["all"]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r.ndcg:.3f}" for r in results.values())
            + f" | {everything.top1_best:.0%} | {everything.violations} "
            f"| {everything.apps_with_violation} of {everything.applications} |"
        )
    return "\n".join(lines)


def per_application(context: Context, rank: Ranking, rows: Sequence[int]) -> np.ndarray:
    """nDCG@10 of each application in `rows`."""
    return np.array([ndcg(rank(context, row), context.effective[row]) for row in rows])


def paired(
    context: Context,
    ours: Ranking,
    others: dict[str, Ranking],
    rows: Sequence[int],
    *,
    resamples: int = 10_000,
    seed: int = 7,
) -> str:
    """The blend against each baseline on the same applications: mean gain with a bootstrap 95% interval,
    and on how many applications it is better, equal or worse."""
    rng = np.random.default_rng(seed)
    mine = per_application(context, ours, rows)
    picks = rng.integers(0, len(rows), size=(resamples, len(rows)))
    lines = [
        "| blend vs | mean nDCG@10 gain | 95% interval (bootstrap over applications) | better / equal / worse |",
        "|---|---|---|---|",
    ]
    for name, rank in others.items():
        theirs = per_application(context, rank, rows)
        gain = mine - theirs
        means = gain[picks].mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5])
        better, worse = int((gain > 1e-9).sum()), int((gain < -1e-9).sum())
        lines.append(
            f"| {name} | {gain.mean():+.3f} | [{low:+.3f}, {high:+.3f}] | "
            f"{better} / {len(rows) - better - worse} / {worse} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="grid-search the weights on the dev split")
    parser.add_argument("--write-jsonl", type=Path, help="write hosts.jsonl / applications.jsonl here and stop")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--set", type=Path, default=HERE, help="folder of the set: this one (default) or hard/, written blind"
    )
    args = parser.parse_args(argv)
    data = load_set(args.set)
    if args.write_jsonl:
        write_jsonl(data, args.write_jsonl)
        print(f"wrote {args.write_jsonl}/hosts.jsonl and applications.jsonl")
        return 0
    settings = Settings(environment="test")
    context = build_context(data, bootstrap.load_embedder(settings), settings)
    problems = check_designed_exclusions(context)
    print(
        f"{len(data.hosts)} hosts, {len(data.applications)} applications "
        f"({data.splits.count('dev')} dev, {data.splits.count('test')} test); "
        f"judged relevant pairs: {sum(1 for g in data.grades for v in g.values() if v)}; "
        f"relevant pairs a hard rule excludes: {sum(len(e) for e in data.designed_exclusions)}"
    )
    print("designed exclusions agree with the rule engine" if not problems else "\n".join(problems))
    splits = {
        "dev": [i for i, s in enumerate(data.splits) if s == "dev"],
        "test": [i for i, s in enumerate(data.splits) if s == "test"],
        "all": list(range(len(data.applications))),
    }
    chosen = settings.weights
    figures: dict[str, Any] = {"configured_weights": chosen.as_dict()}
    if args.search:
        started = time.perf_counter()
        ranked = search_weights(context, splits["dev"])
        best_dev, best = ranked[0]
        test_of = {w.fingerprint(): evaluate(context, blend_ranking(w), splits["test"]).ndcg for _, w in ranked[:10]}
        print(f"\n### Weight search on dev ({len(ranked)} grid points, {time.perf_counter() - started:.1f} s)\n")
        print("| rank on dev | weights | nDCG@10 dev | nDCG@10 test |\n|---|---|---|---|")
        for position, (score, weights) in enumerate(ranked[:10], start=1):
            print(
                f"| {position} | {json.dumps(weights.as_dict())} | {score:.3f} | {test_of[weights.fingerprint()]:.3f} |"
            )
        print(
            f"\nbest on dev: {json.dumps(best.as_dict())} (dev {best_dev:.3f}); configured: "
            f"{json.dumps(chosen.as_dict())}"
        )
        figures["search_best"] = {"weights": best.as_dict(), "dev": best_dev}
    uniform = ScoringWeights(
        semantic=1 / 6, ecosystems=1 / 6, topics=1 / 6, activities=1 / 6, keywords=1 / 6, preferred_country=1 / 6
    )
    rankers: dict[str, Ranking] = {
        "answer overlap (no rules)": overlap_ranking(rules=False),
        "BM25 keywords (no rules)": bm25_ranking(rules=False),
        "semantic only (no rules)": semantic_ranking(rules=False),
        "answer overlap + hard rules": overlap_ranking(rules=True),
        "BM25 keywords + hard rules": bm25_ranking(rules=True),
        "semantic only + hard rules": semantic_ranking(rules=True),
        "blend, equal weights + hard rules": blend_ranking(uniform),
        "blend, configured weights, rules off (ablation)": blend_ranking(chosen, rules=False),
        "**blend (the matcher: configured weights + hard rules)**": blend_ranking(chosen),
    }
    print(
        f"\n### Quality (as of {AS_OF}; embedding {context.encode_seconds:.1f} s for "
        f"{len(data.hosts) + len(data.applications)} texts)\n"
    )
    print(table(context, rankers, splits))
    ours = rankers["**blend (the matcher: configured weights + hard rules)**"]
    baselines = {name: rank for name, rank in rankers.items() if "blend" not in name}
    print(f"\n### The blend against each baseline, test split only ({len(splits['test'])} applications)\n")
    print(paired(context, ours, baselines, splits["test"]))
    if args.json:
        figures["rankers"] = {
            name: {split: evaluate(context, rank, rows).__dict__ for split, rows in splits.items()}
            for name, rank in rankers.items()
        }
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
