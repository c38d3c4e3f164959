"""A service's published interface documents, kept in the repository: OpenAPI (HTTP) and AsyncAPI (events).

Each service describes its documents once, as a `ServiceDocuments` in `cx_<svc>/api_documents.py`, whose
`main` is that module's command; a unit test calls `stale_documents` so a change to routes or events that was
not regenerated fails with the command to run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from faststream.specification import AsyncAPI

from cx_kit.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[3]

Settings = TypeVar("Settings", bound=ServiceSettings)


def openapi_text(app: Any) -> str:
    """The FastAPI app's OpenAPI document as stable, indented JSON."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def asyncapi_text(broker: Any, *, title: str, version: str, description: str | None = None) -> str:
    """The broker's AsyncAPI 3.0 document (its subscribers and publishers) as YAML, its channels, operations
    and messages in name order."""
    document = AsyncAPI(broker, title=title, version=version, description=description).to_specification().to_jsonable()
    # The broker keeps several publishers of one topic (the exchange events) in an order that changes with the
    # hash seed; sorted, the committed document is the same on every run.
    for section in (document, document.get("components", {})):
        for name in ("channels", "operations", "messages", "schemas"):
            if isinstance(section.get(name), dict):
                section[name] = dict(sorted(section[name].items()))
    text = StringIO(newline="\n")
    yaml.dump(document, text, sort_keys=False)
    return text.getvalue()


def stale_documents(documents: Mapping[Path, str]) -> list[Path]:
    """The documents whose committed file is missing or differs from what the code generates."""
    return [path for path, text in documents.items() if not path.exists() or path.read_text() != text]


def write_documents(documents: Mapping[Path, str]) -> list[Path]:
    """Write the documents that changed; returns their paths."""
    changed = stale_documents(documents)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(documents[path])
    return changed


def main(documents: Callable[[], Mapping[Path, str]], regenerate: str, argv: Sequence[str] | None = None) -> int:
    """`--write` regenerates the documents, `--check` exits 1 when one is stale."""
    parser = argparse.ArgumentParser(description="Write or check the service's OpenAPI and AsyncAPI documents.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    arguments = parser.parse_args(argv)
    generated = documents()
    if arguments.write:
        for path in write_documents(generated):
            print(f"wrote {path}")
        return 0
    stale = stale_documents(generated)
    for path in stale:
        print(f"stale: {path} (regenerate with: {regenerate})", file=sys.stderr)
    return 1 if stale else 0


@dataclass(frozen=True)
class ServiceDocuments(Generic[Settings]):
    """A service's committed documents, docs/openapi/<name>.json and docs/asyncapi/<name>.yaml, and their command."""

    name: str  # "catalogue": names the documents and the package, cx_<name>
    create_app: Callable[[Settings], Any]  # an app whose lifespan has not started (nothing connects)
    settings_type: type[Settings]
    title: str
    version: str
    description: str

    @property
    def openapi(self) -> Path:
        """Where the OpenAPI document is committed."""
        return REPO_ROOT / "docs" / "openapi" / f"{self.name}.json"

    @property
    def asyncapi(self) -> Path:
        """Where the AsyncAPI document is committed."""
        return REPO_ROOT / "docs" / "asyncapi" / f"{self.name}.yaml"

    @property
    def regenerate(self) -> str:
        """The command that rewrites the documents."""
        return f"uv run --no-sync python -m cx_{self.name}.api_documents --write"

    def documents(self) -> dict[Path, str]:
        """The documents as the code describes them (production topic names, the local broker address)."""
        settings = self.settings_type(environment="test", topic_namespace="", kafka_bootstrap_servers="127.0.0.1:9092")
        app = self.create_app(settings)
        return {
            self.openapi: openapi_text(app),
            self.asyncapi: asyncapi_text(
                app.state.broker, title=self.title, version=self.version, description=self.description
            ),
        }

    def main(self, argv: Sequence[str] | None = None) -> int:
        """`python -m cx_<name>.api_documents --write | --check`."""
        return main(self.documents, self.regenerate, argv)
