"""Shared pytest plugins: fixtures for the real Kafka, FerretDB and Mailpit live in the service kit."""

pytest_plugins = ["cx_kit.testing"]
