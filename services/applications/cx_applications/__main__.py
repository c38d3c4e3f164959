"""`python -m cx_applications`: run the applications service until SIGINT/SIGTERM."""

from cx_kit.runtime import run_service

from cx_applications.app import create_app
from cx_applications.settings import Settings

if __name__ == "__main__":
    run_service(create_app, Settings)
