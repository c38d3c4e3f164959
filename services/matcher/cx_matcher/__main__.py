"""`python -m cx_matcher`: run the matcher service until SIGINT/SIGTERM."""

import logging
import sys

from cx_kit.logs import configure_logging
from cx_kit.runtime import serve

from cx_matcher.adapters.embedder import ModelUnavailable
from cx_matcher.app import create_app
from cx_matcher.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    try:
        app = create_app(settings)
    except ModelUnavailable as error:
        logging.getLogger("cx_matcher").critical("cannot start: %s", error)
        sys.exit(f"cx-matcher cannot start: {error}")
    serve(app, settings)


if __name__ == "__main__":
    main()
