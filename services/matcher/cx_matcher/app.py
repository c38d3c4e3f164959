"""Composition root of the matcher service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_kit.runtime import ServiceParts

from cx_matcher import __version__
from cx_matcher.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the matcher service: owns the FAISS index of hosts."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    return parts.http_app(title="ClusterXchange matcher", version=__version__)
