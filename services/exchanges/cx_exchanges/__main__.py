"""`python -m cx_exchanges`: serve the exchanges service until stopped."""

from cx_kit.runtime import run_service

from cx_exchanges.app import create_app
from cx_exchanges.settings import Settings

if __name__ == "__main__":
    run_service(create_app, Settings)
