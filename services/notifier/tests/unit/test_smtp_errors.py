"""Errors of the mail relay carry no personal data (they reach the ledger, the logs and dead-letter headers)."""

from __future__ import annotations

import pytest

from cx_notifier.adapters.smtp import without_addresses

pytestmark = pytest.mark.unit


def test_addresses_are_removed_from_error_texts() -> None:
    assert without_addresses("550 <a.b@c.example>: no; x@y.example, too") == "550 <<address>>: no; <address>, too"


def test_error_texts_are_cut_to_a_bounded_length() -> None:
    assert len(without_addresses("4" * 1000)) == 300
