"""Committed interface documents: a stale one is found, and writing makes it current."""

from __future__ import annotations

import pytest

from cx_kit.api_documents import main, stale_documents, write_documents

pytestmark = pytest.mark.unit


def test_missing_and_outdated_documents_are_stale_until_written(tmp_path):
    current, outdated, missing = tmp_path / "a.json", tmp_path / "b.yaml", tmp_path / "docs" / "c.json"
    current.write_text("same\n")
    outdated.write_text("old\n")
    documents = {current: "same\n", outdated: "new\n", missing: "fresh\n"}
    assert stale_documents(documents) == [outdated, missing]
    assert write_documents(documents) == [outdated, missing]
    assert stale_documents(documents) == []
    assert missing.read_text() == "fresh\n"


def test_the_check_command_fails_on_a_stale_document_and_says_how_to_regenerate(tmp_path, capsys):
    path = tmp_path / "openapi.json"
    path.write_text("old\n")
    assert main(lambda: {path: "new\n"}, "make docs", ["--check"]) == 1
    assert "make docs" in capsys.readouterr().err
    assert main(lambda: {path: "new\n"}, "make docs", ["--write"]) == 0
    assert main(lambda: {path: "new\n"}, "make docs", ["--check"]) == 0
