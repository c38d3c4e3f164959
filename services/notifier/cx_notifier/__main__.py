"""`python -m cx_notifier`: run the notifier service until SIGINT/SIGTERM."""

from cx_kit.runtime import run_service

from cx_notifier.app import create_app
from cx_notifier.settings import Settings

if __name__ == "__main__":
    run_service(create_app, Settings)
