"""`cx-dev-issuer` (or `python -m cx_dev_issuer`): serve the development issuer on loopback until stopped."""

from __future__ import annotations

import uvicorn

from cx_dev_issuer.app import create_app
from cx_dev_issuer.settings import Settings


def main() -> None:
    """Read CX_DEV_ISSUER_* and serve."""
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
