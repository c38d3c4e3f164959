"""The notifier's published interface: docs/openapi/notifier.json (HTTP) and docs/asyncapi/notifier.yaml (events).

    uv run --no-sync python -m cx_notifier.api_documents --write   regenerate after changing routes or events
    uv run --no-sync python -m cx_notifier.api_documents --check   exit 1 when a committed document is stale
"""

from __future__ import annotations

from pathlib import Path

from cx_kit.api_documents import asyncapi_text, main, openapi_text

from cx_notifier import __version__
from cx_notifier.app import DESCRIPTION, TITLE, create_app
from cx_notifier.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
OPENAPI = REPO_ROOT / "docs" / "openapi" / "notifier.json"
ASYNCAPI = REPO_ROOT / "docs" / "asyncapi" / "notifier.yaml"
REGENERATE = "uv run --no-sync python -m cx_notifier.api_documents --write"


def documents() -> dict[Path, str]:
    """The documents as the code describes them (production topic names, the local broker address)."""
    settings = Settings(environment="test", topic_namespace="", kafka_bootstrap_servers="127.0.0.1:9092")
    app = create_app(settings)
    return {
        OPENAPI: openapi_text(app),
        ASYNCAPI: asyncapi_text(app.state.parts.service.broker, title=TITLE, version=__version__,
                                description=DESCRIPTION),
    }


if __name__ == "__main__":
    raise SystemExit(main(documents, REGENERATE))
