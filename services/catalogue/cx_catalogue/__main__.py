"""`python -m cx_catalogue`: run the catalogue service until SIGINT/SIGTERM."""

from cx_kit.runtime import run_service

from cx_catalogue.app import create_app
from cx_catalogue.settings import Settings

if __name__ == "__main__":
    run_service(create_app, Settings)
