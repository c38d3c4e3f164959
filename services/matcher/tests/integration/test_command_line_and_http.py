"""`cx-matcher rank` ranks exactly as the live service; the HTTP preview and status; start-up without a model."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from cx_contracts import examples
from cx_contracts.topics import MATCH_FOUND

from cx_matcher.entrypoints import command_line as cli

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[4]


def host_lines(count: int) -> list[dict[str, Any]]:
    """Host entries as the questionnaire writes them, one per line of a file (ids added)."""
    lines = []
    for i in range(count):
        payload = examples.host_entry_payload(i % 5)
        payload["organisation"]["name"] += f" {i}"
        payload["host_id"] = str(uuid4())
        lines.append(payload)
    return lines


def application_lines() -> list[dict[str, Any]]:
    lines = []
    for i in range(3):
        payload = examples.application_payload(i)
        payload["application_id"] = str(uuid4())
        lines.append(payload)
    return lines


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


async def test_the_ranking_command_and_the_live_service_give_the_same_ranking_for_the_same_data(
    namespace, matcher_settings, run_matcher, embedder, tmp_path, monkeypatch
) -> None:
    from cx_contracts.events import HostAnswersSubmitted, VisitorAnswersSubmitted

    hosts, applications = host_lines(10), application_lines()
    await namespace.publish(*(HostAnswersSubmitted.model_validate({**h, "revision": 1}) for h in hosts))
    settings = matcher_settings(top_n=5)
    async with run_matcher(settings):
        await namespace.publish(*(VisitorAnswersSubmitted.model_validate({**a, "revision": 1}) for a in applications))
        live = await namespace.match_found(count=3)

    # The command reads the same settings (weights, pool, as-of day) from the environment; the model loaded for
    # this session stands in for a second load of the same folder.
    monkeypatch.setenv("CX_MATCHER_ENVIRONMENT", "test")
    monkeypatch.setattr("cx_matcher.bootstrap.load_embedder", lambda settings: embedder)
    result = CliRunner().invoke(
        cli.app,
        [
            "rank",
            "--hosts",
            str(write_jsonl(tmp_path / "hosts.jsonl", hosts)),
            "--applications",
            str(write_jsonl(tmp_path / "applications.jsonl", applications)),
            "--top",
            "5",
            "--as-of",
            settings.as_of.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["application_id"] for line in printed] == [a["application_id"] for a in applications]
    live_by_application = {str(run.application_id): run for run in live}
    for line in printed:
        run = live_by_application[line["application_id"]]
        assert [m["host_id"] for m in line["matches"]] == [str(m.host_id) for m in run.matches]
        assert [m["rank"] for m in line["matches"]] == [m.rank for m in run.matches]
        for offline, online in zip(line["matches"], run.matches, strict=True):
            assert offline["score"] == pytest.approx(online.score, abs=1e-5)
            assert offline["explanation"] == pytest.approx(online.explanation, abs=1e-5)
        assert line["matches"], "every example visitor has hosts that fit"


async def test_preview_ranks_answers_without_storing_or_publishing_anything(
    namespace, matcher_settings, run_matcher, http
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    async with run_matcher(matcher_settings()) as app, http(app) as client:
        body = {
            "organisation": examples.application_payload(1)["organisation"],
            "answers": examples.application_payload(1)["answers"],
            "top": 3,
        }
        response = await client.post("/api/matcher/preview", json=body)
        too_many = await client.post("/api/matcher/preview", json={**body, "top": 51})
        unknown_field = await client.post("/api/matcher/preview", json={**body, "contact": {"name": "x"}})
        status = await client.get("/api/matcher/status")
        stored = await app.state.matcher.parts.database["open_applications"].count_documents({})
    assert response.status_code == 200
    preview = response.json()
    assert preview["hosts_in_index"] == 5 and preview["as_of"] == "2027-01-04"
    assert 1 <= len(preview["matches"]) <= 3 and preview["matches"][0]["rank"] == 1
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "top"
    assert unknown_field.status_code == 422
    assert stored == 0 and await namespace.read_all(MATCH_FOUND) == []
    state = status.json()
    assert state["ready"] is True and state["index"] == {"kind": "flat", "hosts": 5, "dead_entries": 0}
    assert state["model"]["name"] == "multilingual-e5-small-q4" and state["model"]["dimension"] == 384
    assert state["host_topic"]["lag"] == 0 and state["host_topic"]["partitions"] == list(range(6))
    assert "/" not in state["model"]["path"] and str(REPO_ROOT) not in status.text, "no server path is shown"


async def test_previews_beyond_the_limit_get_429_at_once_while_the_service_keeps_answering(
    namespace, matcher_settings, run_matcher, http
) -> None:
    await namespace.publish(*(examples.host_answers_submitted(i) for i in range(5)))
    async with run_matcher(matcher_settings(preview_concurrency=1)) as app, http(app) as client:
        body = {
            "organisation": examples.application_payload(1)["organisation"],
            "answers": examples.application_payload(1)["answers"],
            "top": 3,
        }
        answers = await asyncio.gather(
            *(client.post("/api/matcher/preview", json=body) for _ in range(6)), client.get("/healthz")
        )
    previews, health = answers[:-1], answers[-1]
    codes = sorted(r.status_code for r in previews)
    assert 200 in codes and 429 in codes and set(codes) == {200, 429}, codes
    refused = next(r for r in previews if r.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert health.status_code == 200, "the event loop stays free while previews rank"
    assert len({json.dumps(r.json()["matches"]) for r in previews if r.status_code == 200}) == 1, "same list each time"


def run_service(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cx_matcher"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CX_MATCHER_ENVIRONMENT": "test", "CX_MATCHER_LOG_JSON": "false", **env},
        cwd=REPO_ROOT,
    )


def test_the_service_stops_at_start_up_naming_a_missing_model_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    finished = run_service({"CX_MATCHER_MODEL_PATH": str(missing), "CX_MATCHER_HTTP_PORT": "18999"})
    assert finished.returncode != 0
    assert str(missing) in finished.stderr and "embedding model not found" in finished.stderr


def test_the_service_stops_at_start_up_naming_an_unreadable_model_folder(tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "modules.json").write_text("{ this is not json")
    finished = run_service({"CX_MATCHER_MODEL_PATH": str(broken), "CX_MATCHER_HTTP_PORT": "18998"})
    assert finished.returncode != 0
    assert str(broken) in finished.stderr and "unreadable" in finished.stderr


def test_the_ranking_command_reports_a_bad_line_with_its_number(tmp_path: Path) -> None:
    hosts = write_jsonl(tmp_path / "hosts.jsonl", host_lines(2))
    applications = tmp_path / "applications.jsonl"
    applications.write_text(json.dumps(application_lines()[0]) + "\n" + '{"application_id": "nope"}\n')
    result = CliRunner().invoke(cli.app, ["rank", "--hosts", str(hosts), "--applications", str(applications)])
    assert result.exit_code == 2
    assert "applications.jsonl:2" in result.output
