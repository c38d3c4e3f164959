"""The hosts collection (MongoDB db `catalogue`): catalogue entries, their outbox, and the public listing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from cx_contracts.events import HostAnswersSubmitted, HostAnswersWithdrawn
from cx_kit.aggregates import ACTIVE, AggregateRecord, OwnedAggregates, StateEvents

from cx_catalogue.domain.catalogue_query import CatalogueQuery
from cx_catalogue.domain.host_entry import search_text

HOSTS = "hosts"
SEARCH_TEXT = "search_text"
# What the catalogue publishes of an entry: its state after every change, a tombstone when withdrawn.
HOST_EVENTS = StateEvents(HostAnswersSubmitted, HostAnswersWithdrawn)


def _search_fields(record: AggregateRecord) -> dict[str, Any]:
    return {SEARCH_TEXT: search_text(record.answers)}


@dataclass(frozen=True)
class CataloguePage:
    """One page of the public catalogue, and how many entries match in all."""

    entries: list[AggregateRecord]
    total: int


def catalogue_filter(query: CatalogueQuery) -> dict[str, Any]:
    """The MongoDB filter of a catalogue query: active entries, each filter one `$in`, each word a `$regex`."""
    conditions: list[dict[str, Any]] = [{"status": ACTIVE}]
    for field, values in (
        ("answers.ecosystems", query.ecosystem),
        ("organisation.country", query.country),
        ("answers.languages", query.language),
        ("answers.formats", query.format),
        ("answers.topics", query.topic),
    ):
        if values:
            conditions.append({field: {"$in": [str(value) for value in values]}})
    # The store has no text index (FerretDB); the stored search text is already case-folded, and each word is
    # escaped, so a word is matched as written and never read as a pattern.
    conditions += [{SEARCH_TEXT: {"$regex": re.escape(word)}} for word in query.words]
    return {"$and": conditions} if len(conditions) > 1 else conditions[0]


class HostRepository(OwnedAggregates):
    """Catalogue entries: owned, revised, withdrawn with their events (see cx_kit.aggregates), and listed."""

    def __init__(
        self, database: AsyncDatabase, *, topic_namespace: str = "", after_write: Callable[[], None] | None = None
    ) -> None:
        super().__init__(
            database[HOSTS],
            HOST_EVENTS,
            topic_namespace=topic_namespace,
            after_write=after_write,
            derived=_search_fields,
        )

    async def catalogue_page(self, query: CatalogueQuery) -> CataloguePage:
        """The active entries matching `query`, oldest first (so pages stay put as hosts join)."""
        where = catalogue_filter(query)
        cursor = (
            self.collection.find(where, projection={SEARCH_TEXT: 0, "contact": 0, "outbox": 0, "outbox_lease": 0})
            .sort([("created_at", 1), ("_id", 1)])
            .skip(query.skip)
            .limit(query.page_size)
        )
        entries = [AggregateRecord.from_document(document) async for document in cursor]
        return CataloguePage(entries=entries, total=await self.collection.count_documents(where))
