"""The whole system as `make run` starts it, shared by the e2e and the browser tests: real processes for every
service, the web pages, the development issuer and nginx in front."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cx_contracts.topics import EVENT_TOPICS
from cx_kit.service_testing import ensure_namespaced_topics, topic_namespace
from cx_kit.testing import REPO_ROOT, Infrastructure

SERVICES = {"catalogue": 8101, "applications": 8102, "matcher": 8103, "notifier": 8104}
# Services that keep state: each test session's system gets databases and topics of its own.
STATEFUL = ("catalogue", "applications", "matcher", "notifier", "exchanges")


def own_state(infrastructure: Infrastructure) -> dict[str, str]:
    """Settings that give a system fresh databases and namespaced topics (created here), so what earlier runs left
    in the shared store and broker (open applications, hosts) never meets this run's records."""
    namespace = topic_namespace()
    asyncio.run(ensure_namespaced_topics(infrastructure.kafka_bootstrap, namespace, [t.name for t in EVENT_TOPICS]))
    run = uuid.uuid4().hex[:8]
    settings = {}
    for name in STATEFUL:
        settings[f"CX_{name.upper()}_TOPIC_NAMESPACE"] = namespace
        settings[f"CX_{name.upper()}_MONGO_DATABASE"] = f"{name}_{run}"
    return settings


@dataclass(frozen=True)
class RunningSystem:
    """Where the started system answers."""

    gateway: str
    services: dict[str, str]
    infrastructure: Infrastructure
    issuer_key_file: Path  # what the system's development issuer signs with

    def token(self, organisation: str, *options: str) -> str:
        """A token of the system's development issuer, from `cx-dev-token --organisation ORGANISATION ...`."""
        command = [str(REPO_ROOT / ".venv" / "bin" / "cx-dev-token"), "--organisation", organisation, *options]
        env = {**os.environ, "CX_DEV_ISSUER_KEY_FILE": str(self.issuer_key_file)}
        env.pop("CX_DEV_ISSUER_URL", None)
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.strip()

    def signed_in(self, organisation: str, *options: str) -> dict[str, str]:
        """The Authorization header of `token(organisation, *options)`."""
        return {"Authorization": f"Bearer {self.token(organisation, *options)}"}


@pytest.fixture(scope="session")
def running_system(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """Start the development issuer, the four services and the gateway with deploy/local/services.sh; stop them
    afterwards."""
    run_dir = tmp_path_factory.mktemp("run")
    state = own_state(infrastructure)
    env = {**os.environ, **state, "CX_RUN_DIR": str(run_dir), "CX_ENVIRONMENT": "test"}
    env.pop("CX_DEV_ISSUER_KEY_FILE", None)  # the system's issuer keeps its key in its run folder
    script = REPO_ROOT / "deploy" / "local" / "services.sh"
    started = subprocess.run(["bash", str(script), "start"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if started.returncode != 0:
        subprocess.run(["bash", str(script), "stop"], cwd=REPO_ROOT, env=env, check=False)
        pytest.fail(f"the system did not start:\n{started.stdout}\n{started.stderr}")
    try:
        yield RunningSystem(
            gateway="http://127.0.0.1:8080",
            services={name: f"http://127.0.0.1:{port}" for name, port in SERVICES.items()},
            infrastructure=infrastructure,
            issuer_key_file=run_dir / "dev-issuer" / "signing-key.pem",
        )
    finally:
        subprocess.run(["bash", str(script), "stop"], cwd=REPO_ROOT, env=env, check=False)
        drop_databases(infrastructure, [v for k, v in state.items() if k.endswith("_MONGO_DATABASE")])


def drop_databases(infrastructure: Infrastructure, names: list[str]) -> None:
    """Remove the databases a system of a test session used."""
    from pymongo import MongoClient

    with MongoClient(infrastructure.mongo_url, serverSelectionTimeoutMS=5000) as client:
        for name in names:
            client.drop_database(name)
