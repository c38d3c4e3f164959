"""The catalogue service's published interface: docs/openapi/catalogue.json, docs/asyncapi/catalogue.yaml.

uv run --no-sync python -m cx_catalogue.api_documents --write   regenerate after changing routes or events
uv run --no-sync python -m cx_catalogue.api_documents --check   exit 1 when a committed document is stale
"""

from __future__ import annotations

from cx_kit.api_documents import ServiceDocuments

from cx_catalogue import __version__
from cx_catalogue.app import DESCRIPTION, TITLE, create_app
from cx_catalogue.settings import Settings

DOCUMENTS = ServiceDocuments("catalogue", create_app, Settings, TITLE, __version__, DESCRIPTION)

if __name__ == "__main__":
    raise SystemExit(DOCUMENTS.main())
