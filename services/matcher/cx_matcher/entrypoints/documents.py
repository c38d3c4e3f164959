"""The matcher's published interface documents: docs/asyncapi/matcher.yaml and docs/openapi/matcher.json.

Both are generated from the code (the same registration functions the running service uses) and kept in
the repository; a unit test fails when a committed document differs from what the code produces.
Regenerate with `cx-matcher docs --write` from the repository root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from faststream.specification import AsyncAPI

from cx_kit.kafka import make_broker

from cx_matcher import __version__, bootstrap
from cx_matcher.entrypoints.host_reader import document_host_topic
from cx_matcher.entrypoints.visitor_subscriber import register_visitor_subscriber
from cx_matcher.settings import Settings

ASYNCAPI_PATH = Path("docs/asyncapi/matcher.yaml")
OPENAPI_PATH = Path("docs/openapi/matcher.json")
REGENERATE = "uv run --no-sync cx-matcher docs --write"


class _NoModel:
    """Stands in for the embedding model when only the HTTP routes are needed (documents)."""

    name = "all-MiniLM-L6-v2"
    dimension = 384
    backend = "none"
    path = None
    max_tokens = 256
    texts_encoded = 0

    def encode(self, texts: Any) -> np.ndarray:
        raise RuntimeError("no model loaded: this app only describes the interface")


def _settings() -> Settings:
    # Production topic names, whatever the environment of the process writing the documents.
    return Settings(topic_namespace="", environment="test")


async def _never(records: Any) -> None:  # pragma: no cover - the document broker never starts
    raise RuntimeError("documentation only")


def asyncapi_yaml() -> str:
    """The AsyncAPI 3.0 document of the matcher's channels."""
    settings = _settings()
    broker = make_broker(settings.kafka_bootstrap_servers, client_id=settings.service_name)
    document_host_topic(broker, settings)
    register_visitor_subscriber(broker, settings, _never)
    bootstrap.match_publisher(broker, settings)
    spec = AsyncAPI(
        broker,
        title="ClusterXchange matcher",
        version=__version__,
        description="Events the matcher consumes and publishes. Topic names may carry a deployment "
        "namespace prefix (topic_namespace).",
    )
    document = spec.to_specification().to_jsonable()
    # FastStream lists channels in an order that varies between processes; a committed document must not.
    for section in (
        document.get("channels"),
        document.get("operations"),
        document.get("components", {}).get("messages"),
        document.get("components", {}).get("schemas"),
    ):
        if isinstance(section, dict):
            ordered = dict(sorted(section.items()))
            section.clear()
            section.update(ordered)
    return yaml.dump(document, sort_keys=False, allow_unicode=True)


def openapi_json() -> str:
    """The OpenAPI document of the matcher's HTTP routes."""
    from cx_matcher.app import create_app

    app = create_app(_settings(), embedder=_NoModel())
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


def expected(root: Path) -> dict[Path, str]:
    """Document path (under `root`) -> the text the code produces."""
    return {root / ASYNCAPI_PATH: asyncapi_yaml(), root / OPENAPI_PATH: openapi_json()}


def stale(root: Path) -> list[str]:
    """One line per document that is missing or differs from the code."""
    problems = []
    for path, text in expected(root).items():
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from the code")
    return problems


def write(root: Path) -> list[Path]:
    """Write both documents; returns those that changed."""
    changed = []
    for path, text in expected(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
