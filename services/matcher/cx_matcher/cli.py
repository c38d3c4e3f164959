"""`cx-matcher`: rank applications against hosts from files with the live service's scoring; write the docs.

    cx-matcher rank --hosts HOSTS.jsonl --applications APPLICATIONS.jsonl --top K [--as-of YYYY-MM-DD]
    cx-matcher docs --check | --write

`rank` reads one JSON object a line in the questionnaire's shape (`host_id` / `application_id`,
`organisation`, `contact` (ignored), `answers`) and prints one line per application:
{"application_id": ..., "matches": [{"host_id": ..., "rank": 1, "score": ..., "explanation": {...}}]}.
Weights, candidate pool and model come from the same settings (CX_MATCHER_*) as the service.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cx_contracts.events import MAX_MATCHES
from cx_contracts.questionnaire import HostAnswersState, OrganisationState, VisitorAnswersState

app = typer.Typer(name="cx-matcher", help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)


class HostLine(BaseModel):
    """One line of a hosts file."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    host_id: UUID
    revision: int = Field(1, ge=1)
    organisation: OrganisationState
    answers: HostAnswersState


class ApplicationLine(BaseModel):
    """One line of an applications file."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    application_id: UUID
    revision: int = Field(1, ge=1)
    organisation: OrganisationState
    answers: VisitorAnswersState


class BadLine(ValueError):
    """A line of an input file is not a valid host entry or application."""


def read_lines(path: Path, model: type[BaseModel]) -> Iterator[Any]:
    """Validated objects of a JSON-lines file; blank lines skipped; a bad line stops with its number."""
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                yield model.model_validate_json(line)
            except ValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                raise BadLine(f"{path}:{number}: {problems}") from None


def rank_files(hosts: list[HostLine], applications: list[ApplicationLine], *, top: int,
               as_of: Any = None, embedder: Any = None) -> Iterator[dict[str, Any]]:
    """One result per application, ranked by the service's own Ranker on an index of `hosts`."""
    from cx_matcher.adapters.host_index import HostChange, HostIndex
    from cx_matcher.app import load_embedder
    from cx_matcher.domain.profiles import HostProfile, VisitorProfile, host_text, visitor_text
    from cx_matcher.domain.ranking import MatchPolicy
    from cx_matcher.service import Ranker, today_utc
    from cx_matcher.settings import Settings

    with warnings.catch_warnings():
        # The command calls no other service: the placeholder internal token it warns about is unused here.
        warnings.filterwarnings("ignore", message=".*INTERNAL_TOKEN is the placeholder.*")
        settings = Settings()
    embedder = embedder or load_embedder(settings)
    latest = {line.host_id: line for line in hosts}  # a host listed twice: its last line, as on the topic
    index = HostIndex(embedder.dimension, kind=settings.index_kind, hnsw_m=settings.hnsw_m,
                      ef_construction=settings.hnsw_ef_construction, ef_search=settings.hnsw_ef_search)
    host_vectors = embedder.encode([host_text(line.answers) for line in latest.values()])
    index.apply([
        HostChange(line.host_id, HostProfile.from_answers(line.host_id, line.revision, line.organisation,
                                                          line.answers), vector)
        for line, vector in zip(latest.values(), host_vectors, strict=True)
    ])
    ranker = Ranker(index, candidate_pool=settings.candidate_pool, max_candidate_pool=settings.max_candidate_pool)
    policy = MatchPolicy(weights=settings.weights, top_n=top, as_of=as_of or settings.as_of or today_utc())
    goal_vectors = embedder.encode([visitor_text(line.answers) for line in applications])
    for line, vector in zip(applications, goal_vectors, strict=True):
        profile = VisitorProfile.from_answers(line.application_id, line.revision, line.organisation, line.answers)
        ranked = ranker.rank(profile, vector, policy)
        yield {
            "application_id": str(line.application_id),
            "matches": [{"host_id": str(e.host_id), "rank": e.rank, "score": e.score, "explanation": e.explanation}
                        for e in ranked],
        }


@app.command()
def rank(
    hosts: Annotated[Path, typer.Option("--hosts", exists=True, dir_okay=False, help="Host entries, JSON lines.")],
    applications: Annotated[Path, typer.Option("--applications", exists=True, dir_okay=False,
                                               help="Applications, JSON lines.")],
    top: Annotated[int, typer.Option("--top", min=1, max=MAX_MATCHES, help="Hosts per application.")] = 10,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"],
                                                   help="Count availability from this day (default today, UTC, "
                                                        "or CX_MATCHER_AS_OF).")] = None,
) -> None:
    """Rank the hosts for each application; one JSON line per application on stdout."""
    from cx_matcher.adapters.embedder import ModelUnavailable

    try:
        host_lines = list(read_lines(hosts, HostLine))
        application_lines = list(read_lines(applications, ApplicationLine))
    except BadLine as error:
        typer.echo(f"cx-matcher: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        for result in rank_files(host_lines, application_lines, top=top,
                                 as_of=None if as_of is None else as_of.date()):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    except ModelUnavailable as error:
        typer.echo(f"cx-matcher: {error}", err=True)
        raise typer.Exit(2) from None


@app.command("prepare-model")
def prepare_model() -> None:
    """Load the configured model once, so its ONNX graph is exported, checked and cached for later starts."""
    from cx_matcher.adapters.embedder import ModelUnavailable
    from cx_matcher.app import load_embedder
    from cx_matcher.settings import Settings

    settings = Settings()
    try:
        embedder = load_embedder(settings)
    except ModelUnavailable as error:
        typer.echo(f"cx-matcher: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps({"model": str(settings.model_path), "backend": embedder.backend,
                           "cache": None if settings.encoder_cache_dir is None else str(settings.encoder_cache_dir)}))


@app.command()
def docs(
    write: Annotated[bool, typer.Option("--write", help="Regenerate the documents.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Fail when a document is out of date.")] = False,
    root: Annotated[Path, typer.Option("--root", file_okay=False, help="Repository root.")] = Path("."),
) -> None:
    """Write or check docs/asyncapi/matcher.yaml and docs/openapi/matcher.json."""
    from cx_matcher.entrypoints import documents

    if write == check:
        raise typer.BadParameter("give exactly one of --write or --check")
    if write:
        changed = documents.write(root)
        typer.echo("\n".join(f"written {path}" for path in changed) or "documents up to date")
        return
    problems = documents.stale(root)
    if problems:
        typer.echo("\n".join(["matcher documents are out of date:", *problems, f"Regenerate: {documents.REGENERATE}"]),
                   err=True)
        raise typer.Exit(1)
    typer.echo("documents up to date")


if __name__ == "__main__":
    app()
