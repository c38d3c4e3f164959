"""`python -m cx_matcher`: run the matcher service until SIGINT/SIGTERM."""

from cx_kit.logs import configure_logging
from cx_kit.runtime import serve

from cx_matcher.app import create_app
from cx_matcher.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
