"""Composition root of the applications service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_kit.runtime import ServiceParts

from cx_applications import __version__
from cx_applications.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the applications service: owns visitor applications."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    return parts.http_app(title="ClusterXchange applications", version=__version__)
