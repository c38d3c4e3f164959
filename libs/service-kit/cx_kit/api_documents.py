"""A service's published interface documents, kept in the repository: OpenAPI (HTTP) and AsyncAPI (events).

Each service lists its documents (path -> text) in `cx_<svc>/api_documents.py` and runs this module's
`main` as its command; a unit test calls `stale_documents` so a change to routes or events that was not
regenerated fails with the command to run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI


def openapi_text(app: Any) -> str:
    """The FastAPI app's OpenAPI document as stable, indented JSON."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def asyncapi_text(broker: Any, *, title: str, version: str, description: str | None = None) -> str:
    """The broker's AsyncAPI 3.0 document (its subscribers and publishers) as YAML."""
    return AsyncAPI(broker, title=title, version=version, description=description).to_specification().to_yaml()


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
