"""The committed JSON Schema snapshots match the code, so a contract change shows up in review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cx_contracts import schemas

pytestmark = pytest.mark.unit


def test_the_committed_schema_snapshots_match_the_models() -> None:
    problems = schemas.differences()
    assert not problems, (
        "The public contract changed but its JSON Schema snapshots did not:\n  "
        + "\n  ".join(problems)
        + f"\nIf the change is intended (additive, or a new major topic), regenerate them with:\n  {schemas.REGENERATE}"
        + "\nand commit libs/contracts/schemas/ with the change."
    )


def test_every_http_input_and_every_event_has_a_snapshot() -> None:
    names = {model.__name__ for model, _mode in schemas.SNAPSHOTS}
    assert {"HostEntryCreate", "HostEntryUpdate", "ApplicationCreate", "ApplicationUpdate"} <= names
    assert {
        "HostAnswersSubmitted",
        "HostAnswersWithdrawn",
        "VisitorAnswersSubmitted",
        "VisitorAnswersWithdrawn",
        "MatchFound",
        "NotificationSent",
    } <= names


def test_the_snapshot_check_notices_a_changed_a_missing_and_a_stale_file(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    assert schemas.differences(tmp_path) == []
    (tmp_path / "MatchFound.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "NotificationSent.json").unlink()
    (tmp_path / "OldEvent.json").write_text("{}\n", encoding="utf-8")
    assert sorted(schemas.differences(tmp_path)) == [
        "MatchFound.json: differs from the code",
        "NotificationSent.json: missing",
        "OldEvent.json: no model produces it any more",
    ]
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    assert schemas.main(["--write", "--dir", str(tmp_path)]) == 0
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0


def test_http_input_schemas_forbid_unknown_fields_and_event_schemas_allow_them() -> None:
    create = json.loads(schemas.render(*schemas.SNAPSHOTS[0]))
    assert create["additionalProperties"] is False
    assert create["$defs"]["HostAnswers"]["additionalProperties"] is False
    event = schemas.schema_of(schemas.MatchFound)
    assert "additionalProperties" not in event
    answers = schemas.schema_of(schemas.HostAnswersSubmitted)["$defs"]["HostAnswersState"]
    assert "additionalProperties" not in answers


def test_every_field_in_every_snapshot_is_described() -> None:
    def undescribed(schema: dict, where: str) -> list[str]:
        missing = []
        for name, prop in schema.get("properties", {}).items():
            if "description" not in prop:
                missing.append(f"{where}.{name}")
        for def_name, definition in schema.get("$defs", {}).items():
            missing += undescribed(definition, def_name)
        return missing

    missing = [
        m for model, mode in schemas.SNAPSHOTS for m in undescribed(schemas.schema_of(model, mode), model.__name__)
    ]
    assert missing == []
