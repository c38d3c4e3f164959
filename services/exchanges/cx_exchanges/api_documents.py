"""The exchanges service's published interface: docs/openapi/exchanges.json, docs/asyncapi/exchanges.yaml.

uv run --no-sync python -m cx_exchanges.api_documents --write   regenerate after changing routes or events
uv run --no-sync python -m cx_exchanges.api_documents --check   exit 1 when a committed document is stale
"""

from __future__ import annotations

from cx_kit.api_documents import ServiceDocuments

from cx_exchanges import __version__
from cx_exchanges.app import DESCRIPTION, TITLE, create_app
from cx_exchanges.settings import Settings

DOCUMENTS = ServiceDocuments("exchanges", create_app, Settings, TITLE, __version__, DESCRIPTION)

if __name__ == "__main__":
    raise SystemExit(DOCUMENTS.main())
