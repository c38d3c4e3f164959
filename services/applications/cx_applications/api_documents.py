"""The applications service's published interface: docs/openapi/applications.json, docs/asyncapi/applications.yaml.

uv run --no-sync python -m cx_applications.api_documents --write   regenerate after changing routes or events
uv run --no-sync python -m cx_applications.api_documents --check   exit 1 when a committed document is stale
"""

from __future__ import annotations

from cx_kit.api_documents import ServiceDocuments

from cx_applications import __version__
from cx_applications.app import DESCRIPTION, TITLE, create_app
from cx_applications.settings import Settings

DOCUMENTS = ServiceDocuments("applications", create_app, Settings, TITLE, __version__, DESCRIPTION)

if __name__ == "__main__":
    raise SystemExit(DOCUMENTS.main())
