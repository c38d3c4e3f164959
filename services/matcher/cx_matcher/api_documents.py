"""The matcher's published interface: docs/openapi/matcher.json (HTTP), docs/asyncapi/matcher.yaml (events).

    uv run --no-sync python -m cx_matcher.api_documents --write   regenerate after changing routes or events
    uv run --no-sync python -m cx_matcher.api_documents --check   exit 1 when a committed document is stale

Both are generated from the code (the same registration functions the running service uses), like every
service's; the matcher writes its own AsyncAPI text because its host and exchange readers are plain consumers, declared
for the document here, and FastStream's channel order must be made stable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from faststream.specification import AsyncAPI

from cx_kit.api_documents import REPO_ROOT, main, openapi_text
from cx_kit.kafka import make_broker

from cx_matcher import __version__, bootstrap
from cx_matcher.entrypoints.exchange_reader import document_exchange_topic
from cx_matcher.entrypoints.host_reader import document_host_topic
from cx_matcher.entrypoints.visitor_subscriber import register_visitor_subscriber
from cx_matcher.settings import Settings

OPENAPI = REPO_ROOT / "docs" / "openapi" / "matcher.json"
ASYNCAPI = REPO_ROOT / "docs" / "asyncapi" / "matcher.yaml"
REGENERATE = "uv run --no-sync python -m cx_matcher.api_documents --write"


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
    document_exchange_topic(broker, settings)
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


def documents() -> dict[Path, str]:
    """The documents as the code describes them (production topic names)."""
    from cx_matcher.app import create_app

    return {OPENAPI: openapi_text(create_app(_settings(), embedder=_NoModel())), ASYNCAPI: asyncapi_yaml()}


if __name__ == "__main__":
    raise SystemExit(main(documents, REGENERATE))
