"""Composition root of the catalogue service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_kit.runtime import ServiceParts

from cx_catalogue import __version__
from cx_catalogue.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the catalogue service: owns host profiles (the catalogue)."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    return parts.http_app(title="ClusterXchange catalogue", version=__version__)
