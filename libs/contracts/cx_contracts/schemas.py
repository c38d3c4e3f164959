"""JSON Schema snapshots of the public contract: one file per HTTP document and event under libs/contracts/schemas/.

    python -m cx_contracts.schemas --write   regenerate the snapshots after a deliberate contract change
    python -m cx_contracts.schemas --check   exit 1 when a snapshot differs from the code (what the tests run)

A snapshot diff in review is the place to ask: is this change additive, or does it need a new major topic?
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from cx_contracts.api import (
    ApplicationCreate,
    ApplicationCreated,
    ApplicationPublic,
    ApplicationUpdate,
    ContactCard,
    HostEntryCreate,
    HostEntryCreated,
    HostEntryPublic,
    HostEntryUpdate,
    RecordFacts,
)
from cx_contracts.events import (
    ExchangeAccepted,
    ExchangeAgreed,
    ExchangeCompleted,
    ExchangeDeclined,
    ExchangeRequested,
    ExchangeWithdrawn,
    HostAnswersSubmitted,
    HostAnswersWithdrawn,
    MatchFound,
    NotificationSent,
    VisitorAnswersSubmitted,
    VisitorAnswersWithdrawn,
)
from cx_contracts.exchange import (
    ExchangeAcceptance,
    ExchangeAgreement,
    ExchangeCreated,
    ExchangeDecline,
    ExchangeReport,
    ExchangeRequest,
    ExchangesPage,
    ExchangeTotals,
    ExchangeView,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "schemas"
REGENERATE = "uv run --no-sync python -m cx_contracts.schemas --write"

Mode = Literal["validation", "serialization"]

# Inputs are described as they are validated, read models as they are written.
SNAPSHOTS: tuple[tuple[type[BaseModel], Mode], ...] = (
    (HostEntryCreate, "validation"),
    (HostEntryUpdate, "validation"),
    (ApplicationCreate, "validation"),
    (ApplicationUpdate, "validation"),
    (HostEntryCreated, "serialization"),
    (ApplicationCreated, "serialization"),
    (HostEntryPublic, "serialization"),
    (ApplicationPublic, "serialization"),
    (ContactCard, "serialization"),
    (RecordFacts, "serialization"),
    (ExchangeRequest, "validation"),
    (ExchangeAcceptance, "validation"),
    (ExchangeDecline, "validation"),
    (ExchangeAgreement, "validation"),
    (ExchangeReport, "validation"),
    (ExchangeCreated, "serialization"),
    (ExchangeView, "serialization"),
    (ExchangesPage, "serialization"),
    (ExchangeTotals, "serialization"),
    (HostAnswersSubmitted, "validation"),
    (HostAnswersWithdrawn, "validation"),
    (VisitorAnswersSubmitted, "validation"),
    (VisitorAnswersWithdrawn, "validation"),
    (MatchFound, "validation"),
    (NotificationSent, "validation"),
    (ExchangeRequested, "validation"),
    (ExchangeAccepted, "validation"),
    (ExchangeDeclined, "validation"),
    (ExchangeWithdrawn, "validation"),
    (ExchangeAgreed, "validation"),
    (ExchangeCompleted, "validation"),
)


def schema_of(model: type[BaseModel], mode: Mode = "validation") -> dict[str, Any]:
    """The JSON Schema of one model, with its dialect stated."""
    return {"$schema": SCHEMA_DIALECT, **model.model_json_schema(mode=mode)}


def render(model: type[BaseModel], mode: Mode = "validation") -> str:
    """The snapshot file text of one model: stable, indented JSON with a final newline."""
    return json.dumps(schema_of(model, mode), indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """File name -> text of every snapshot."""
    return {f"{model.__name__}.json": render(model, mode) for model, mode in SNAPSHOTS}


def write(directory: Path = DEFAULT_DIRECTORY) -> list[Path]:
    """Write every snapshot, remove stale ones; return the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    changed = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for stale in directory.glob("*.json"):
        if stale.name not in expected:
            stale.unlink()
            changed.append(stale)
    return changed


def differences(directory: Path = DEFAULT_DIRECTORY) -> list[str]:
    """One line per snapshot that is missing, stale or out of date; empty when all match the code."""
    expected = expected_files()
    problems = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from the code")
    for present in sorted(directory.glob("*.json")):
        if present.name not in expected:
            problems.append(f"{present.name}: no model produces it any more")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: --write or --check."""
    parser = argparse.ArgumentParser(prog="python -m cx_contracts.schemas", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate the snapshots")
    action.add_argument("--check", action="store_true", help="fail when a snapshot is out of date")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="snapshot folder")
    args = parser.parse_args(argv)
    if args.write:
        changed = write(args.dir)
        print(f"{len(changed)} snapshot(s) changed in {args.dir}" if changed else "snapshots up to date")
        return 0
    problems = differences(args.dir)
    if problems:
        print("JSON Schema snapshots are out of date:", *problems, f"Regenerate with: {REGENERATE}", sep="\n  ")
        return 1
    print("snapshots up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
