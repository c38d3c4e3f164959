"""Composition root of the notifier service: settings -> clients -> adapters -> broker and HTTP app."""

from __future__ import annotations

from fastapi import FastAPI

from cx_kit.runtime import ServiceParts

from cx_notifier import __version__
from cx_notifier.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the notifier service: owns the sent-mail ledger."""
    settings = settings or Settings()
    parts = ServiceParts(settings)
    return parts.http_app(title="ClusterXchange notifier", version=__version__)
