"""Shared pytest plugins: fixtures for the real Kafka, FerretDB and Mailpit live in the service kit, the real
development issuer (for signed tokens) in tools/dev-issuer."""

pytest_plugins = ["cx_kit.testing", "cx_dev_issuer.testing"]
