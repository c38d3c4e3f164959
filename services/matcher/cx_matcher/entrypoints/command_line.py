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
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cx_contracts.events import MAX_MATCHES
from cx_contracts.questionnaire import HostAnswersState, OrganisationState, VisitorAnswersState

if TYPE_CHECKING:
    from cx_matcher.handlers import Embedder

app = typer.Typer(name="cx-matcher", help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    revision: int = Field(1, ge=1)
    organisation: OrganisationState


class HostLine(_Line):
    """One line of a hosts file."""

    host_id: UUID
    answers: HostAnswersState


class ApplicationLine(_Line):
    """One line of an applications file."""

    application_id: UUID
    answers: VisitorAnswersState


Line = TypeVar("Line", bound=BaseModel)


class BadLine(ValueError):
    """A line of an input file is not a valid host entry or application."""


def read_lines(path: Path, model: type[Line]) -> Iterator[Line]:
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


def rank_files(
    hosts: list[HostLine],
    applications: list[ApplicationLine],
    *,
    top: int,
    as_of: date | None = None,
    embedder: Embedder | None = None,
) -> Iterator[dict[str, Any]]:
    """One result per application, ranked by the service's own Ranking on an index of `hosts`."""
    from cx_matcher import bootstrap
    from cx_matcher.settings import Settings

    with warnings.catch_warnings():
        # The command calls no other service: the placeholder internal token it warns about is unused here.
        warnings.filterwarnings("ignore", message=".*INTERNAL_TOKEN is the placeholder.*")
        settings = Settings()
    ranking = bootstrap.ranking(settings, embedder or bootstrap.load_embedder(settings))
    ranking.add_hosts(hosts)
    lists = ranking.rank_sync(applications, limit=top, policy=ranking.policy(as_of))
    for line, ranked in zip(applications, lists, strict=True):
        yield {
            "application_id": str(line.application_id),
            "matches": [
                {"host_id": str(e.host_id), "rank": e.rank, "score": e.score, "explanation": e.explanation}
                for e in ranked
            ],
        }


@app.command()
def rank(
    hosts: Annotated[Path, typer.Option("--hosts", exists=True, dir_okay=False, help="Host entries, JSON lines.")],
    applications: Annotated[
        Path, typer.Option("--applications", exists=True, dir_okay=False, help="Applications, JSON lines.")
    ],
    top: Annotated[int, typer.Option("--top", min=1, max=MAX_MATCHES, help="Hosts per application.")] = 10,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Count availability from this day (default today, UTC, or CX_MATCHER_AS_OF).",
        ),
    ] = None,
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
        for result in rank_files(host_lines, application_lines, top=top, as_of=None if as_of is None else as_of.date()):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    except ModelUnavailable as error:
        typer.echo(f"cx-matcher: {error}", err=True)
        raise typer.Exit(2) from None


@app.command("prepare-model")
def prepare_model() -> None:
    """Load the configured model once: checks it loads; an ONNX graph is exported, checked and cached too."""
    from cx_matcher import bootstrap
    from cx_matcher.adapters.embedder import ModelUnavailable
    from cx_matcher.settings import Settings

    settings = Settings()
    try:
        embedder = bootstrap.load_embedder(settings)
    except ModelUnavailable as error:
        typer.echo(f"cx-matcher: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        json.dumps(
            {
                "model": str(settings.model_path),
                "backend": embedder.backend,
                "cache": None
                if settings.encoder_cache_dir is None or embedder.backend != "onnx"
                else str(settings.encoder_cache_dir),
            }
        )
    )


@app.command()
def docs(
    write: Annotated[bool, typer.Option("--write", help="Regenerate the documents.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Fail when a document is out of date.")] = False,
) -> None:
    """Write or check the OpenAPI and AsyncAPI documents, as `python -m cx_matcher.api_documents` does."""
    from cx_matcher import api_documents

    if write == check:
        raise typer.BadParameter("give exactly one of --write or --check")
    raise typer.Exit(
        api_documents.main(api_documents.documents, api_documents.REGENERATE, ["--write" if write else "--check"])
    )


if __name__ == "__main__":
    app()
