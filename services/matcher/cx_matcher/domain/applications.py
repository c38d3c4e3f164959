"""The open applications a replica answers for: in memory, with their goal vectors stacked for re-matching.

Applications are split between replicas by visitor-topic partition (one consumer group). Each replica keeps
the open applications of the partitions it owns: their goal vectors (so a new host is compared without
re-embedding), the list last published and the host-topic offsets that list reflects, and the revision of
each application withdrawn, so that an older revision delivered after its tombstone does not re-open it
(domain/revisions.py). The store in adapters/open_applications.py keeps the same for every partition, for the
next owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

import numpy as np

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
    stored_as: str | None = None  # id of the store document holding this version

    @property
    def application_id(self) -> UUID:
        """The application's id."""
        return self.profile.application_id

    @property
    def revision(self) -> int:
        """The application revision last matched."""
        return self.profile.revision


@dataclass
class WithdrawnApplication:
    """What is kept of a withdrawn application: its revision, so no older revision re-opens it (no answers)."""

    application_id: UUID
    partition: int
    revision: int
    stored_as: str | None = None  # id of the store document recording the withdrawal


class OpenApplications:
    """The open applications of the partitions this replica owns, with their vectors stacked for re-matching,
    and the withdrawn ones' revisions."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._by_id: dict[UUID, OpenApplication] = {}
        self._withdrawn: dict[UUID, WithdrawnApplication] = {}
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

    def withdrawals(self) -> list[WithdrawnApplication]:
        """Every withdrawn application remembered."""
        return list(self._withdrawn.values())

    def revision_of(self, application_id: UUID) -> int | None:
        """The highest revision of an application seen, open or withdrawn, or None if never seen."""
        held = self._by_id.get(application_id)
        if held is not None:
            return held.revision
        withdrawn = self._withdrawn.get(application_id)
        return None if withdrawn is None else withdrawn.revision

    def put(self, application: OpenApplication) -> None:
        """Add or replace an application."""
        replaced = self._by_id.get(application.application_id)
        self._by_id[application.application_id] = application
        self._withdrawn.pop(application.application_id, None)
        if replaced is None or not np.array_equal(replaced.vector, application.vector):
            self._matrix = None

    def withdraw(self, withdrawn: WithdrawnApplication) -> OpenApplication | None:
        """Forget an application withdrawn, remembering its revision; returns it if it was open."""
        removed = self._by_id.pop(withdrawn.application_id, None)
        self._withdrawn[withdrawn.application_id] = withdrawn
        if removed is not None:
            self._matrix = None
        return removed

    def drop_partitions(self, partitions: Iterable[int]) -> int:
        """Forget the applications of partitions this replica no longer owns; returns how many were open."""
        gone = set(partitions)
        self._withdrawn = {key: w for key, w in self._withdrawn.items() if w.partition not in gone}
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
            self._matrix = (
                np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.dimension), dtype=np.float32)
            )
        return [self._by_id[application_id] for application_id in self._order], self._matrix
