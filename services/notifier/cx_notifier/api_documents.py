"""The notifier's published interface: docs/openapi/notifier.json (HTTP) and docs/asyncapi/notifier.yaml (events).

uv run --no-sync python -m cx_notifier.api_documents --write   regenerate after changing routes or events
uv run --no-sync python -m cx_notifier.api_documents --check   exit 1 when a committed document is stale
"""

from __future__ import annotations

from cx_kit.api_documents import ServiceDocuments

from cx_notifier import __version__
from cx_notifier.app import DESCRIPTION, TITLE, create_app
from cx_notifier.settings import Settings

DOCUMENTS = ServiceDocuments("notifier", create_app, Settings, TITLE, __version__, DESCRIPTION)
# The names the notifier's tests read.
OPENAPI, ASYNCAPI, REGENERATE, documents = (
    DOCUMENTS.openapi,
    DOCUMENTS.asyncapi,
    DOCUMENTS.regenerate,
    DOCUMENTS.documents,
)

if __name__ == "__main__":
    raise SystemExit(DOCUMENTS.main())
