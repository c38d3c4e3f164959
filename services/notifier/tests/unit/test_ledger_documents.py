"""How the Mongo ledger stores an entry: one document per entry, read back to the same entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cx_contracts import examples

from cx_notifier.adapters.ledger import entry_document, entry_from_document
from cx_notifier.domain.ledger import plan_run

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)


def test_an_entry_survives_its_round_trip_through_the_store_document() -> None:
    entry = plan_run(examples.match_found(), period=3, domain="cx.example", now=NOW)[0]

    document = entry_document(entry)

    assert document["_id"] == entry.id and "id" not in document
    assert entry_from_document({**document, "outbox": [], "outbox_lease": None}) == entry
