"""The FAISS index of hosts: expertise vectors keyed by host, their profiles, and the topic offsets covered.

Vectors are unit length, so inner product is cosine similarity. The default index is exact (`IndexFlatIP`
behind an `IndexIDMap2`); `hnsw` selects `IndexHNSWFlat` for catalogues near a million hosts. FAISS ids are
a counter, not the host's UUID: a revised host gets a new id. HNSW cannot delete, so a replaced or withdrawn
host's old vector stays in the graph as a dead entry that searches skip; the flat index deletes it.

Every host seen keeps its highest revision, a withdrawn one too (a small map of host id to the tombstone's
revision, kept in snapshots), and a record not above it changes nothing (domain/revisions.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal
from uuid import UUID

import faiss
import numpy as np

from cx_matcher.domain.profiles import HostChange, HostProfile, Position, answer_masks
from cx_matcher.domain.revisions import newest_records
from cx_matcher.domain.rules import FORMAT_BITS, RuleColumns

IndexKind = Literal["flat", "hnsw"]


class HostIndex:
    """Hosts searchable by expertise similarity, with their profiles; not thread-safe (one event loop uses it)."""

    def __init__(
        self,
        dimension: int,
        *,
        kind: IndexKind = "flat",
        hnsw_m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 128,
    ) -> None:
        self.ef_search = ef_search
        # Grows on every change, and never goes back (not even when the index is cleared or restored), so one
        # who saw a value knows whether anything changed since; snapshots compare it.
        self.changes = 0
        self._reset(dimension, kind, hnsw_m, ef_construction)

    def _reset(self, dimension: int, kind: IndexKind, hnsw_m: int, ef_construction: int) -> None:
        self.dimension = dimension
        self.kind: IndexKind = kind
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self._faiss: Any = self._empty_faiss()
        self._profiles: dict[UUID, HostProfile] = {}
        self._faiss_id: dict[UUID, int] = {}
        self._host_of: dict[int, UUID] = {}
        self._profile_of: dict[int, HostProfile] = {}  # by FAISS id: ints hash far faster than UUIDs
        # Per FAISS id: (ecosystems, topics, activities) bit masks and a country number, for ranking bounds.
        self._masks = np.zeros((0, 3), dtype=np.int64)
        self._countries = np.zeros(0, dtype=np.int32)
        self._country_numbers: dict[str, int] = {}
        self._formats = np.zeros(0, dtype=np.uint8)
        self._language_bits = np.zeros(0, dtype=np.uint64)
        self._max_days = np.zeros(0, dtype=np.int16)
        self._capacity = np.zeros(0, dtype=np.int16)
        self._language_numbers: dict[str, int] = {}
        self._mask_cache: dict[tuple[frozenset[str], frozenset[str], frozenset[str]], tuple[int, int, int]] = {}
        self._positions: dict[UUID, Position] = {}
        self._withdrawn: dict[UUID, int] = {}  # the highest revision of each host removed (live ones: its profile's)
        self._next_id = 0
        self.offsets: dict[int, int] = {}  # next offset to read, per partition of the host topic
        self._by_offset: dict[int, tuple[list[int], list[UUID]]] = {}
        self._by_offset_version = -1
        self._live_ids = np.zeros(0, dtype=np.int64)
        self._live_ids_version = -1

    def _empty_faiss(self) -> Any:
        inner: Any
        if self.kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dimension, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.ef_construction
            inner.hnsw.efSearch = self.ef_search
        else:
            inner = faiss.IndexFlatIP(self.dimension)
        return faiss.IndexIDMap2(inner)

    def _inner(self) -> Any:
        # The flat or HNSW index inside the id map, as its own class (FAISS hands out the base class).
        return faiss.downcast_index(self._faiss.index)

    # -- reading ---------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, host_id: object) -> bool:
        return host_id in self._profiles

    def profile(self, host_id: UUID) -> HostProfile | None:
        """The current profile of a host, or None when it is not in the index."""
        return self._profiles.get(host_id)

    def revision_of(self, host_id: UUID) -> int | None:
        """The highest revision of a host seen, in the index or withdrawn, or None if never seen (or unknown)."""
        profile = self._profiles.get(host_id)
        return profile.revision if profile is not None else self._withdrawn.get(host_id)

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
        ids, similarities = self.search_ids(vector, k)
        profile_of = self._profile_of
        return [(profile_of[i], s) for i, s in zip(ids.tolist(), similarities.tolist(), strict=True)]

    def search_ids(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS ids and cosine similarities of up to `k` live hosts closest to `vector`, best first."""
        return self.search_ids_many(np.asarray(vector, dtype=np.float32).reshape(1, self.dimension), k)[0]

    def search_ids_many(self, vectors: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search_ids` for each row of `vectors`, the same result whether a vector comes alone or in a batch."""
        if k <= 0 or not self._profiles:
            return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)) for _ in vectors]
        if self.kind == "flat":
            return self._exact_search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        return [self._faiss_search(vector, k) for vector in vectors]

    def _exact_search(self, queries: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        # The exact index's own vectors (a view, not a copy) scored against all queries in one matrix product:
        # a single-query FAISS search streams every stored vector through memory for each query, and its
        # bundled BLAS multiplies ten times slower than numpy's here (docs/benchmarks.md). The chosen
        # candidates are then scored again one query at a time, so a vector's similarities never depend on
        # the batch it came in.
        total = int(self._faiss.ntotal)
        stored = faiss.rev_swig_ptr(self._inner().get_xb(), total * self.dimension)
        stored = stored.reshape(total, self.dimension)
        ids = faiss.vector_to_array(self._faiss.id_map)
        k = min(k, total)
        coarse = queries @ stored.T
        if k < total:
            chosen = np.argpartition(-coarse, k - 1, axis=1)[:, :k]
        else:
            chosen = np.broadcast_to(np.arange(total), coarse.shape)
        results = []
        for query, rows in zip(queries, chosen, strict=True):
            rows = np.sort(rows)  # the same rows in the same order give the same float sums
            similarities = stored[rows] @ query
            order = np.argsort(-similarities, kind="stable")
            results.append((ids[rows[order]], similarities[order]))
        return results

    def _faiss_search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dimension)
        dead = self.dead_entries
        ask = min(int(self._faiss.ntotal), k + dead)
        if self.kind == "hnsw":
            self._inner().hnsw.efSearch = max(self.ef_search, ask)
        similarities, ids = self._faiss.search(query, ask)
        ids, similarities = ids[0], similarities[0]
        found = ids >= 0
        if dead:
            profile_of = self._profile_of
            found &= np.fromiter((i in profile_of for i in ids.tolist()), dtype=bool, count=len(ids))
        return ids[found][:k], similarities[found][:k]

    def live_ids(self) -> np.ndarray:
        """The FAISS ids of every host in the index (kept until the index changes)."""
        if self._live_ids_version != self.changes:
            self._live_ids = np.fromiter(self._profile_of, dtype=np.int64, count=len(self._profile_of))
            self._live_ids_version = self.changes
        return self._live_ids

    def similarities(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine similarity of `vector` to the hosts behind FAISS ids (their stored vectors, not a search)."""
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        stored = self._faiss.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))
        return stored @ np.asarray(vector, dtype=np.float32).reshape(self.dimension)

    def profile_at(self, faiss_id: int) -> HostProfile:
        """The profile behind a live FAISS id."""
        return self._profile_of[faiss_id]

    def answer_masks_of(self, ids: np.ndarray) -> np.ndarray:
        """(ecosystems, topics, activities) bit masks of the hosts behind FAISS ids, one row each."""
        return self._masks[ids]

    def in_countries(self, ids: np.ndarray, countries: Iterable[str]) -> np.ndarray:
        """Whether each host behind FAISS ids is registered in one of `countries`."""
        numbers = [self._country_numbers[c] for c in countries if c in self._country_numbers]
        if not numbers:
            return np.zeros(len(ids), dtype=bool)
        return np.isin(self._countries[ids], numbers)

    def rule_columns(self, ids: np.ndarray) -> RuleColumns:
        """The cheap hard-rule answers of the hosts behind FAISS ids, as arrays (for rules.may_fit)."""
        return RuleColumns(
            countries=self._countries[ids],
            formats=self._formats[ids],
            language_bits=self._language_bits[ids],
            max_days=self._max_days[ids],
            capacity=self._capacity[ids],
        )

    def country_number(self, country: str) -> int | None:
        """The number standing for a country in the columns, or None if no host is registered there."""
        return self._country_numbers.get(country)

    def language_bit(self, language: str) -> int:
        """The bit standing for a language in the columns (0 if no host offers it)."""
        number = self._language_numbers.get(language)
        return 0 if number is None else 1 << (number % 64)

    def _describe(self, faiss_id: int, profile: HostProfile) -> None:
        if faiss_id >= len(self._countries):
            size = max(faiss_id + 1, 2 * len(self._countries), 1024)
            grown = []
            columns = (self._masks, self._countries, self._formats, self._language_bits, self._max_days, self._capacity)
            for column in columns:
                bigger = np.zeros((size, *column.shape[1:]), dtype=column.dtype)
                bigger[: len(column)] = column
                grown.append(bigger)
            self._masks, self._countries, self._formats, self._language_bits, self._max_days, self._capacity = grown
        self._formats[faiss_id] = sum(FORMAT_BITS[f] for f in profile.formats)
        bits = 0
        for language in profile.languages:
            number = self._language_numbers.setdefault(language, len(self._language_numbers))
            bits |= 1 << (number % 64)
        self._language_bits[faiss_id] = bits
        self._max_days[faiss_id] = profile.max_days
        self._capacity[faiss_id] = profile.capacity
        key = (profile.ecosystems, profile.topics, profile.activities)
        found = self._mask_cache.get(key)
        if found is None:
            found = self._mask_cache[key] = answer_masks(*key)
        self._masks[faiss_id] = found
        number = self._country_numbers.setdefault(profile.country, len(self._country_numbers))
        self._countries[faiss_id] = number

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
        changed: list[HostProfile] = []
        for partition, (offsets_read, hosts) in self._by_offset.items():
            start = bisect.bisect_left(offsets_read, offsets.get(partition, 0))
            changed.extend(self._profiles[host_id] for host_id in hosts[start:])
        return changed

    # -- changing --------------------------------------------------------------------------------------

    def apply(self, changes: Sequence[HostChange]) -> list[HostChange]:
        """Apply host records in order, each only if its revision is above the highest held for its host;
        returns the records that decide a state (one per host changed)."""
        newest = newest_records(changes, key=lambda c: c.host_id, revision=lambda c: c.revision, held=self.revision_of)
        final = {host_id: change for host_id, (change, _) in newest.items()}
        stale = [self._faiss_id[host_id] for host_id in final if host_id in self._faiss_id]
        if stale:
            for faiss_id in stale:
                del self._host_of[faiss_id]
                del self._profile_of[faiss_id]
            if self.kind == "flat":
                self._faiss.remove_ids(np.asarray(stale, dtype=np.int64))
        added_vectors, added_ids = [], []
        for host_id, change in final.items():
            self._faiss_id.pop(host_id, None)
            if change.profile is None:
                self._profiles.pop(host_id, None)
                self._positions.pop(host_id, None)
                highest = newest[host_id][1]
                if highest is not None:
                    self._withdrawn[host_id] = highest
                continue
            self._withdrawn.pop(host_id, None)
            faiss_id = self._next_id
            self._next_id += 1
            self._faiss_id[host_id] = faiss_id
            self._host_of[faiss_id] = host_id
            self._profile_of[faiss_id] = change.profile
            self._describe(faiss_id, change.profile)
            self._profiles[host_id] = change.profile
            if change.position is not None:
                self._positions[host_id] = change.position
            added_vectors.append(np.asarray(change.vector, dtype=np.float32).reshape(self.dimension))
            added_ids.append(faiss_id)
        if added_ids:
            self._faiss.add_with_ids(np.vstack(added_vectors), np.asarray(added_ids, dtype=np.int64))
        self.changes += len(final)
        return list(final.values())

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
            "withdrawn": {str(host_id): revision for host_id, revision in self._withdrawn.items()},
        }
        return meta, faiss.serialize_index(self._faiss)

    def restore(self, meta: Mapping[str, Any], index_bytes: np.ndarray) -> None:
        """Replace everything held with a snapshot (`snapshot_state` output as a snapshot reads it back).

        No vector is re-computed; the kind and graph parameters are the snapshot's, the search width this
        index's own.
        """
        self._reset(int(meta["dimension"]), meta["kind"], int(meta["hnsw"]["m"]), int(meta["hnsw"]["ef_construction"]))
        self.changes += 1
        self._faiss = faiss.deserialize_index(index_bytes)
        if self.kind == "hnsw":
            self._inner().hnsw.efSearch = self.ef_search
        self._next_id = int(meta["next_id"])
        self.offsets = {int(partition): int(offset) for partition, offset in meta["offsets"].items()}
        # Snapshots written before withdrawn hosts were remembered have none.
        self._withdrawn = {UUID(host_id): int(revision) for host_id, revision in meta.get("withdrawn", {}).items()}
        for faiss_id, position, profile in meta["hosts"]:
            self._profiles[profile.host_id] = profile
            self._faiss_id[profile.host_id] = faiss_id
            self._host_of[faiss_id] = profile.host_id
            self._profile_of[faiss_id] = profile
            self._describe(faiss_id, profile)
            if position is not None:
                self._positions[profile.host_id] = (int(position[0]), int(position[1]))

    def clear(self) -> None:
        """Forget every host and every offset read."""
        self._reset(self.dimension, self.kind, self.hnsw_m, self.ef_construction)
        self.changes += 1
