"""The latest matches of each application (collection `matches`, one document per application)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cx_contracts.events import MatchFound

from cx_applications.domain.matches import run_order

MATCHES = "matches"


def latest_matches_document(event: MatchFound) -> dict[str, Any]:
    """What is kept of a MatchFound: the run, its trigger, model and time, and the ranked hosts."""
    return {
        "run_order": run_order(event.revision, event.occurred_at, str(event.match_run_id)),
        "event_id": str(event.event_id),
        "match_run_id": str(event.match_run_id),
        "application_revision": event.revision,
        "trigger": event.trigger,
        "model_version": event.model_version,
        "computed_at": event.occurred_at,
        "matches": [
            {
                "host_id": str(match.host_id),
                "rank": match.rank,
                "score": match.score,
                "explanation": dict(match.explanation),
            }
            for match in event.matches
        ],
    }


class LatestMatchesRepository:
    """Keeps, per application, the MatchFound of its highest revision that happened last."""

    def __init__(self, database: AsyncDatabase) -> None:
        self._collection = database[MATCHES]

    async def keep(self, event: MatchFound) -> bool:
        """Store `event` unless a run that happened at the same time or later is stored; True if stored."""
        document = latest_matches_document(event)
        application_id = str(event.application_id)
        # Replace only an older run: the guard makes a redelivered or out-of-date run a no-op.
        replaced = await self._collection.update_one(
            {"_id": application_id, "run_order": {"$lt": document["run_order"]}}, {"$set": document}
        )
        if replaced.matched_count:
            return True
        try:
            await self._collection.insert_one({"_id": application_id, **document})
        except DuplicateKeyError:
            return False  # a run as recent or more recent is stored
        return True

    async def latest(self, application_id: str) -> dict[str, Any] | None:
        """The stored run of `application_id`, if any."""
        return await self._collection.find_one({"_id": application_id})
