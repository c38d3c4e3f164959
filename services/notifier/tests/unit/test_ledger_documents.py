"""How the Mongo ledger stores an entry (one document per entry) and an application's introductions, read back
to the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cx_contracts import examples

from cx_notifier.adapters.ledger import (
    entry_document,
    entry_from_document,
    introduction_document,
    introductions_from_document,
)
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.ledger import plan_run

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)


def test_an_entry_survives_its_round_trip_through_the_store_document() -> None:
    match = examples.match_found()
    entry = plan_run(match, Introductions().recorded(match), period=3, domain="cx.example", now=NOW)[0]

    document = entry_document(entry)

    assert document["_id"] == entry.id and "id" not in document
    assert entry_from_document({**document, "outbox": [], "outbox_lease": None}) == entry


def test_an_applications_introductions_survive_their_round_trip_through_the_store_document() -> None:
    first = examples.match_found()
    later = examples.match_found(application_id=first.application_id)
    introductions = Introductions().recorded(first).recorded(later)

    document = {
        "_id": str(first.application_id),
        "first_run": introductions.first_run,
        "hosts": [introduction_document(i) for i in introductions.introduced],
    }

    assert introductions_from_document(document) == introductions
    assert introductions_from_document(None) == Introductions()
