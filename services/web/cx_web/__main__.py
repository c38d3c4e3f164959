"""`python -m cx_web`: serve the web pages until SIGINT/SIGTERM."""

from cx_kit.runtime import run_service

from cx_web.app import create_app
from cx_web.settings import Settings

if __name__ == "__main__":
    run_service(create_app, Settings)
