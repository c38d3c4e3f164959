"""The FAISS index of hosts: expertise vectors keyed by host, their profiles, and the topic offsets covered.

Vectors are unit length, so inner product is cosine similarity. The default index is exact (`IndexFlatIP`
behind an `IndexIDMap2`); `hnsw` selects `IndexHNSWFlat` for catalogues near a million hosts. FAISS ids are
a counter, not the host's UUID: a revised host gets a new id. HNSW cannot delete, so a replaced or withdrawn
host's old vector stays in the graph as a dead entry that searches skip; the flat index deletes it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import faiss
import numpy as np

from cx_matcher.domain.profiles import HostProfile

IndexKind = Literal["flat", "hnsw"]
Position = tuple[int, int]  # (partition, offset) of the host record the entry reflects


@dataclass(frozen=True)
class HostChange:
    """One host record, as applied to the index: a new state (profile + vector) or a removal (profile None)."""

    host_id: UUID
    profile: HostProfile | None
    vector: np.ndarray | None
    position: Position | None = None


class HostIndex:
    """Hosts searchable by expertise similarity, with their profiles; not thread-safe (one event loop uses it)."""

    def __init__(self, dimension: int, *, kind: IndexKind = "flat", hnsw_m: int = 32, ef_construction: int = 80,
                 ef_search: int = 128) -> None:
        self.dimension = dimension
        self.kind: IndexKind = kind
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self._faiss = self._empty_faiss()
        self._profiles: dict[UUID, HostProfile] = {}
        self._faiss_id: dict[UUID, int] = {}
        self._host_of: dict[int, UUID] = {}
        self._positions: dict[UUID, Position] = {}
        self._next_id = 0
        self.offsets: dict[int, int] = {}  # next offset to read, per partition of the host topic
        self.changes = 0  # grows on every applied change; snapshots compare it
        self._by_offset: dict[int, tuple[list[int], list[UUID]]] = {}
        self._by_offset_version = -1

    def _empty_faiss(self) -> Any:
        if self.kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dimension, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.ef_construction
            inner.hnsw.efSearch = self.ef_search
        else:
            inner = faiss.IndexFlatIP(self.dimension)
        return faiss.IndexIDMap2(inner)

    # -- reading ---------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, host_id: object) -> bool:
        return host_id in self._profiles

    def profile(self, host_id: UUID) -> HostProfile | None:
        """The current profile of a host, or None when it is not in the index."""
        return self._profiles.get(host_id)

    def profiles(self) -> Iterable[HostProfile]:
        """Every host in the index."""
        return self._profiles.values()

    def position(self, host_id: UUID) -> Position | None:
        """Where on the host topic the host's current state was read."""
        return self._positions.get(host_id)

    @property
    def dead_entries(self) -> int:
        """Vectors still in FAISS for hosts replaced or withdrawn (HNSW only)."""
        return int(self._faiss.ntotal) - len(self._host_of)

    def vector(self, host_id: UUID) -> np.ndarray | None:
        """The stored expertise vector of a host."""
        faiss_id = self._faiss_id.get(host_id)
        return None if faiss_id is None else self._faiss.reconstruct(faiss_id)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[HostProfile, float]]:
        """Up to `k` hosts closest to `vector` (a unit vector), with their cosine similarity, best first."""
        if k <= 0 or not self._profiles:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dimension)
        ask = min(int(self._faiss.ntotal), k + self.dead_entries)
        if self.kind == "hnsw":
            faiss.downcast_index(self._faiss.index).hnsw.efSearch = max(self.ef_search, ask)
        similarities, ids = self._faiss.search(query, ask)
        found = []
        for faiss_id, similarity in zip(ids[0].tolist(), similarities[0].tolist(), strict=True):
            host_id = self._host_of.get(faiss_id)
            if host_id is not None:
                found.append((self._profiles[host_id], similarity))
                if len(found) == k:
                    break
        return found

    def changed_since(self, offsets: Mapping[int, int]) -> list[HostProfile]:
        """Hosts whose current state was read at or after `offsets` (partition -> next offset then)."""
        if self._by_offset_version != self.changes:
            by_partition: dict[int, list[tuple[int, UUID]]] = {}
            for host_id, (partition, offset) in self._positions.items():
                by_partition.setdefault(partition, []).append((offset, host_id))
            self._by_offset = {}
            for partition, entries in by_partition.items():
                entries.sort()
                self._by_offset[partition] = ([offset for offset, _ in entries], [host for _, host in entries])
            self._by_offset_version = self.changes
        changed = []
        for partition, (offsets_read, hosts) in self._by_offset.items():
            start = bisect.bisect_left(offsets_read, offsets.get(partition, 0))
            changed.extend(self._profiles[host_id] for host_id in hosts[start:])
        return changed

    # -- changing --------------------------------------------------------------------------------------

    def apply(self, changes: Sequence[HostChange]) -> None:
        """Apply host records in order; a host's last record in `changes` decides its state."""
        final: dict[UUID, HostChange] = {}
        for change in changes:
            final[change.host_id] = change
        stale = [self._faiss_id[host_id] for host_id in final if host_id in self._faiss_id]
        if stale:
            for faiss_id in stale:
                del self._host_of[faiss_id]
            if self.kind == "flat":
                self._faiss.remove_ids(np.asarray(stale, dtype=np.int64))
        added_vectors, added_ids = [], []
        for host_id, change in final.items():
            self._faiss_id.pop(host_id, None)
            if change.profile is None:
                self._profiles.pop(host_id, None)
                self._positions.pop(host_id, None)
                continue
            faiss_id = self._next_id
            self._next_id += 1
            self._faiss_id[host_id] = faiss_id
            self._host_of[faiss_id] = host_id
            self._profiles[host_id] = change.profile
            if change.position is not None:
                self._positions[host_id] = change.position
            added_vectors.append(np.asarray(change.vector, dtype=np.float32).reshape(self.dimension))
            added_ids.append(faiss_id)
        if added_ids:
            self._faiss.add_with_ids(np.vstack(added_vectors), np.asarray(added_ids, dtype=np.int64))
        self.changes += len(final)

    def cover(self, offsets: Mapping[int, int]) -> None:
        """Record that the index reflects the host topic up to `offsets` (partition -> next offset)."""
        self.offsets.update(offsets)

    # -- snapshots -------------------------------------------------------------------------------------

    def snapshot_state(self) -> tuple[dict[str, Any], np.ndarray]:
        """Metadata (JSON-ready) and the serialised FAISS index, as they are now.

        Profiles are immutable, so the metadata lists can be turned into JSON on another thread.
        """
        meta = {
            "dimension": self.dimension,
            "kind": self.kind,
            "hnsw": {"m": self.hnsw_m, "ef_construction": self.ef_construction},
            "next_id": self._next_id,
            "offsets": {str(partition): offset for partition, offset in self.offsets.items()},
            "hosts": [
                (self._faiss_id[host_id], self._positions.get(host_id), profile)
                for host_id, profile in self._profiles.items()
            ],
        }
        return meta, faiss.serialize_index(self._faiss)

    @classmethod
    def from_snapshot(cls, meta: Mapping[str, Any], index_bytes: np.ndarray, *, ef_search: int = 128) -> HostIndex:
        """Rebuild an index from `snapshot_state` output as a snapshot reads it back; no vector is re-computed."""
        index = cls(int(meta["dimension"]), kind=meta["kind"], hnsw_m=int(meta["hnsw"]["m"]),
                    ef_construction=int(meta["hnsw"]["ef_construction"]), ef_search=ef_search)
        index._faiss = faiss.deserialize_index(index_bytes)
        if index.kind == "hnsw":
            faiss.downcast_index(index._faiss.index).hnsw.efSearch = ef_search
        index._next_id = int(meta["next_id"])
        index.offsets = {int(partition): int(offset) for partition, offset in meta["offsets"].items()}
        for faiss_id, position, profile in meta["hosts"]:
            index._profiles[profile.host_id] = profile
            index._faiss_id[profile.host_id] = faiss_id
            index._host_of[faiss_id] = profile.host_id
            if position is not None:
                index._positions[profile.host_id] = (int(position[0]), int(position[1]))
        return index
