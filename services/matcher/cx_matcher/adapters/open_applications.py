"""Open applications: the ones this replica matches, in memory for re-matching, and in MongoDB for the next owner.

Applications are split between replicas by visitor-topic partition (one consumer group). Each replica keeps
in memory the open applications of the partitions it owns: their goal vectors (so a new host is compared
without re-embedding), the list last published and the host-topic offsets that list reflects. MongoDB (db
`matcher`, collection `open_applications`) holds the same for every partition, so a replica that takes a
partition over after a rebalance or a restart loads them instead of re-reading the topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import numpy as np
from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection

from cx_matcher.domain.profiles import VisitorProfile
from cx_matcher.domain.ranking import RankedHost


@dataclass
class OpenApplication:
    """An application this replica answers for, with what it was last told."""

    profile: VisitorProfile
    vector: np.ndarray
    partition: int
    event_id: UUID
    matches: list[RankedHost] = field(default_factory=list)
    ranked_at: dict[int, int] = field(default_factory=dict)  # host-topic partition -> next offset, when ranked

    @property
    def application_id(self) -> UUID:
        """The application's id."""
        return self.profile.application_id

    @property
    def revision(self) -> int:
        """The application revision last matched."""
        return self.profile.revision


class OpenApplications:
    """The open applications of the partitions this replica owns, with their vectors stacked for re-matching."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._by_id: dict[UUID, OpenApplication] = {}
        self._matrix: np.ndarray | None = None
        self._order: list[UUID] = []

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, application_id: object) -> bool:
        return application_id in self._by_id

    def get(self, application_id: UUID) -> OpenApplication | None:
        """The open application, or None."""
        return self._by_id.get(application_id)

    def all(self) -> list[OpenApplication]:
        """Every open application held."""
        return list(self._by_id.values())

    def put(self, application: OpenApplication) -> None:
        """Add or replace an application."""
        replaced = self._by_id.get(application.application_id)
        self._by_id[application.application_id] = application
        if replaced is None or not np.array_equal(replaced.vector, application.vector):
            self._matrix = None

    def remove(self, application_id: UUID) -> OpenApplication | None:
        """Forget an application (withdrawn); returns it if it was held."""
        removed = self._by_id.pop(application_id, None)
        if removed is not None:
            self._matrix = None
        return removed

    def drop_partitions(self, partitions: Iterable[int]) -> int:
        """Forget the applications of partitions this replica no longer owns; returns how many."""
        gone = set(partitions)
        doomed = [app_id for app_id, app in self._by_id.items() if app.partition in gone]
        for application_id in doomed:
            del self._by_id[application_id]
        if doomed:
            self._matrix = None
        return len(doomed)

    def goal_matrix(self) -> tuple[list[OpenApplication], np.ndarray]:
        """The applications and their goal vectors stacked (one row each), rebuilt only after changes."""
        if self._matrix is None:
            self._order = list(self._by_id)
            rows = [self._by_id[application_id].vector for application_id in self._order]
            self._matrix = (np.vstack(rows).astype(np.float32) if rows
                            else np.zeros((0, self.dimension), dtype=np.float32))
        return [self._by_id[application_id] for application_id in self._order], self._matrix


def _match_document(entry: RankedHost) -> dict[str, Any]:
    return {"host_id": str(entry.host_id), "rank": entry.rank, "score": entry.score,
            "explanation": dict(entry.explanation)}


def _ranked_host(document: Mapping[str, Any]) -> RankedHost:
    return RankedHost(host_id=UUID(document["host_id"]), rank=int(document["rank"]), score=float(document["score"]),
                      explanation={k: float(v) for k, v in document["explanation"].items()})


class ApplicationStore:
    """Open applications in MongoDB, one document each, keyed by application id."""

    def __init__(self, collection: AsyncCollection) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """The partition index, for loading what a replica took over."""
        await self._collection.create_index("partition")

    @staticmethod
    def _document(application: OpenApplication) -> dict[str, Any]:
        return {
            "_id": str(application.application_id),
            "partition": application.partition,
            "revision": application.revision,
            "event_id": str(application.event_id),
            "profile": application.profile.to_record(),
            "vector": Binary(np.asarray(application.vector, dtype="<f4").tobytes()),
            "matches": [_match_document(entry) for entry in application.matches],
            "ranked_at": {str(partition): offset for partition, offset in application.ranked_at.items()},
            "updated_at": datetime.now(UTC),
        }

    @staticmethod
    def _application(document: Mapping[str, Any]) -> OpenApplication:
        return OpenApplication(
            profile=VisitorProfile.from_record(document["profile"]),
            vector=np.frombuffer(bytes(document["vector"]), dtype="<f4").astype(np.float32),
            partition=int(document["partition"]),
            event_id=UUID(document["event_id"]),
            matches=[_ranked_host(entry) for entry in document.get("matches", [])],
            ranked_at={int(partition): int(offset) for partition, offset in document.get("ranked_at", {}).items()},
        )

    async def save(self, applications: Sequence[OpenApplication]) -> None:
        """Insert or replace applications, in two round trips.

        Not one bulk_write of upserts: FerretDB 1.x answers it without `nModified`, which PyMongo cannot read.
        A crash between the two calls loses the stored state of these applications; their records are then
        redelivered (not yet committed) and matched again under the same run ids.
        """
        if not applications:
            return
        documents = {str(app.application_id): self._document(app) for app in applications}
        await self._collection.delete_many({"_id": {"$in": list(documents)}})
        await self._collection.insert_many(list(documents.values()), ordered=False)

    async def delete(self, application_ids: Sequence[UUID]) -> None:
        """Forget withdrawn applications."""
        if application_ids:
            await self._collection.delete_many({"_id": {"$in": [str(app_id) for app_id in application_ids]}})

    async def mark_checked(self, partitions: Sequence[int], offsets: Mapping[int, int]) -> None:
        """Every open application of `partitions` has been checked against the hosts up to `offsets`."""
        await self._collection.update_many(
            {"partition": {"$in": list(partitions)}},
            {"$set": {"ranked_at": {str(partition): offset for partition, offset in offsets.items()}}},
        )

    async def load(self, partitions: Iterable[int]) -> list[OpenApplication]:
        """Every open application of the given visitor-topic partitions."""
        wanted = sorted(set(partitions))
        if not wanted:
            return []
        return [self._application(document)
                async for document in self._collection.find({"partition": {"$in": wanted}})]

    async def revisions(self, application_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The revision stored for each of `application_ids` that is stored."""
        if not application_ids:
            return {}
        cursor = self._collection.find({"_id": {"$in": [str(a) for a in application_ids]}},
                                       projection={"revision": 1})
        return {UUID(document["_id"]): int(document["revision"]) async for document in cursor}
