"""The hosts proposed to each application (collection `proposals`): the matcher's latest run, kept per application.

A run replaces the kept one only if it is of a higher application revision, or of the same one and happened
later (`MatchFound.run_order`), so a redelivered or late run, and a run of an older revision a replica that just
lost the application's partition publishes, change nothing, on every replica and every replay.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cx_contracts.events import MatchFound

PROPOSALS = "proposals"


def run_order(run: MatchFound) -> str:
    """A text that sorts runs by application revision, then as they happened."""
    # The leading letter sorts above the orders kept before the revision led them (they begin with a year).
    return f"r{run.revision:012d}|{run.run_order}"


class ProposalRepository:
    """The handlers' `Proposals` on MongoDB."""

    def __init__(self, database: AsyncDatabase) -> None:
        self._collection = database[PROPOSALS]

    async def keep(self, run: MatchFound) -> bool:
        """Keep `run`'s hosts unless a run as recent or more recent is kept; True if kept."""
        order = run_order(run)
        document = {
            "run_order": order,
            "match_run_id": str(run.match_run_id),
            "host_ids": [str(match.host_id) for match in run.matches],
        }
        application_id = str(run.application_id)
        replaced = await self._collection.update_one(
            {"_id": application_id, "run_order": {"$lt": order}}, {"$set": document}
        )
        if replaced.matched_count:
            return True
        try:
            await self._collection.insert_one({"_id": application_id, **document})
        except DuplicateKeyError:
            return False
        return True

    async def hosts(self, application_id: str) -> list[str]:
        """The hosts the latest run proposed to the application (none before a run reported)."""
        document = await self._collection.find_one({"_id": application_id})
        return [] if document is None else list(document["host_ids"])
