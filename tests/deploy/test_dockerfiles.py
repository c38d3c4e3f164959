"""services/*/Dockerfile: a locked, multi-stage, non-root image per service that answers its health check."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalogue", "applications", "matcher", "notifier", "exchanges", "web")
WORKSPACE_MEMBERS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]


def dockerfile(service: str) -> str:
    # Continuation lines joined, so each instruction is one line.
    return re.sub(r"\\\n\s*", " ", (ROOT / "services" / service / "Dockerfile").read_text())


def instructions(service: str, keyword: str) -> list[str]:
    return re.findall(rf"^{keyword}\s+(.+)$", dockerfile(service), re.MULTILINE)


def port(service: str) -> int:
    return importlib.import_module(f"cx_{service}.settings").Settings.model_fields["http_port"].default


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_is_built_in_stages_on_python_3_11_slim(service: str) -> None:
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile(service)
    stages = instructions(service, "FROM")
    assert len(stages) >= 2 and all(stage.startswith("${PYTHON_IMAGE}") for stage in stages)


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_installs_only_its_own_package_from_the_lock(service: str) -> None:
    syncs = [line for line in instructions(service, "RUN") if "uv sync" in line]
    assert syncs
    for line in syncs:
        assert "--frozen" in line and "--no-dev" in line and f"--package cx-{service}" in line


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_copies_every_workspace_members_pyproject_so_uv_can_read_the_workspace(service: str) -> None:
    copies = " ".join(instructions(service, "COPY"))
    for member in WORKSPACE_MEMBERS:
        assert f"{member}/pyproject.toml" in copies, f"{member} is missing from services/{service}/Dockerfile"


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_runs_its_service_as_an_unprivileged_user(service: str) -> None:
    (user,) = instructions(service, "USER")
    assert user.split(":")[0] not in ("0", "root") and user.split(":")[0].isdigit()
    assert instructions(service, "CMD") == [f'["python", "-m", "cx_{service}"]']


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_listens_beyond_loopback_on_its_port_and_checks_its_own_health(service: str) -> None:
    text = dockerfile(service)
    prefix = f"CX_{service.upper()}_"
    assert f"{prefix}HTTP_HOST=0.0.0.0" in text and f"{prefix}HTTP_PORT={port(service)}" in text
    assert instructions(service, "EXPOSE") == [str(port(service))]
    (check,) = instructions(service, "HEALTHCHECK")
    assert f"http://127.0.0.1:{port(service)}/healthz" in check


def test_the_build_context_leaves_out_local_state_and_the_git_history() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".infra", "**/__pycache__"} <= ignored
    assert "uv.lock" not in ignored and "libs" not in ignored
