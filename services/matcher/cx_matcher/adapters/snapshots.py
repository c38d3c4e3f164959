"""Index snapshots on disk: the FAISS index, the host profiles and the host-topic offsets they cover.

One file per snapshot, written to a temporary name, flushed to disk and renamed into place, so a crash
leaves either the previous snapshot or the new one, never half a file. No pickle: a snapshot is data, never
code. Layout:

    8 bytes  magic "CXSNAP02"
    8 bytes  length of the JSON header, little endian
    header   JSON: metadata, offsets, the revisions of withdrawn hosts, tables of distinct values, and the list
             of column arrays that follow
    columns  one numpy array per profile field, raw little-endian bytes, in the header's order
    rest     the serialised FAISS index

Profiles are stored by column, each set-like answer as an index into a table of the distinct values: hosts
share few distinct combinations, so restoring 100k hosts builds a few thousand sets, not half a million, and
reads no per-host JSON (docs/benchmarks.md: restore time).
"""

from __future__ import annotations

import json
import logging
import os
import struct
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np

from cx_matcher.domain.profiles import HostProfile

logger = logging.getLogger(__name__)

MAGIC = b"CXSNAP02"
SUFFIX = ".cxsnap"
FORMAT_VERSION = 2
_SET_FIELDS = ("ecosystems", "topics", "activities", "languages", "formats")

HostEntry = tuple[int, tuple[int, int] | None, HostProfile]  # faiss id, (partition, offset), profile


class SnapshotUnreadable(Exception):
    """A snapshot file is damaged or not a snapshot."""


@dataclass(frozen=True)
class SnapshotInfo:
    """What a written snapshot holds."""

    path: Path
    created_at: str
    hosts: int
    size_bytes: int


class _Table:
    """Distinct values in first-seen order, each given an index."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}

    def id(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found

    def values(self) -> list[Any]:
        return list(self.index)


def encode_hosts(entries: Sequence[HostEntry]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Host entries as tables of distinct values and one column per field."""
    countries, sets, keyword_lists, period_lists = _Table(), _Table(), _Table(), _Table()
    n = len(entries)
    columns = {
        "faiss_id": np.empty(n, dtype="<i8"),
        "host_id": np.empty((n, 16), dtype=np.uint8),
        "revision": np.empty(n, dtype="<i8"),
        "partition": np.empty(n, dtype="<i4"),
        "offset": np.empty(n, dtype="<i8"),
        "country": np.empty(n, dtype="<i4"),
        **{name: np.empty(n, dtype="<i4") for name in _SET_FIELDS},
        "keywords": np.empty(n, dtype="<i4"),
        "availability": np.empty(n, dtype="<i4"),
        "max_days": np.empty(n, dtype="<i2"),
        "capacity": np.empty(n, dtype="<i2"),
    }
    ids = bytearray()
    for row, (faiss_id, position, profile) in enumerate(entries):
        columns["faiss_id"][row] = faiss_id
        ids += profile.host_id.bytes
        columns["revision"][row] = profile.revision
        columns["partition"][row], columns["offset"][row] = position if position is not None else (-1, -1)
        columns["country"][row] = countries.id(profile.country)
        for name in _SET_FIELDS:
            columns[name][row] = sets.id(tuple(sorted(getattr(profile, name))))
        columns["keywords"][row] = keyword_lists.id(tuple(" ".join(form) for form in profile.keywords))
        columns["availability"][row] = period_lists.id(
            tuple((start.toordinal(), end.toordinal()) for start, end in profile.availability)
        )
        columns["max_days"][row] = profile.max_days
        columns["capacity"][row] = profile.capacity
    if n:
        columns["host_id"] = np.frombuffer(bytes(ids), dtype=np.uint8).reshape(n, 16)
    tables = {
        "countries": countries.values(),
        "sets": [list(v) for v in sets.values()],
        "keyword_lists": [list(v) for v in keyword_lists.values()],
        "period_lists": [[list(p) for p in v] for v in period_lists.values()],
    }
    return tables, columns


def decode_hosts(tables: dict[str, Any], columns: dict[str, np.ndarray]) -> list[HostEntry]:
    """The host entries `encode_hosts` stored; equal sets, keyword lists and periods are shared objects."""
    countries = tables["countries"]
    sets = [frozenset(values) for values in tables["sets"]]
    keyword_lists = [tuple(tuple(form.split(" ")) for form in forms) for forms in tables["keyword_lists"]]
    period_lists = [
        tuple((date.fromordinal(a), date.fromordinal(b)) for a, b in periods) for periods in tables["period_lists"]
    ]
    n = len(columns["faiss_id"])
    ids = columns["host_id"].tobytes()
    as_lists = {name: column.tolist() for name, column in columns.items() if name != "host_id"}
    eco, top, act, lang, fmt = (as_lists[name] for name in _SET_FIELDS)
    entries: list[HostEntry] = []
    for row in range(n):
        partition = as_lists["partition"][row]
        profile = HostProfile(
            host_id=UUID(bytes=ids[row * 16 : (row + 1) * 16]),
            revision=as_lists["revision"][row],
            country=countries[as_lists["country"][row]],
            ecosystems=sets[eco[row]],
            topics=sets[top[row]],
            activities=sets[act[row]],
            languages=sets[lang[row]],
            formats=sets[fmt[row]],
            keywords=keyword_lists[as_lists["keywords"][row]],
            availability=period_lists[as_lists["availability"][row]],
            max_days=as_lists["max_days"][row],
            capacity=as_lists["capacity"][row],
        )
        position = None if partition < 0 else (partition, as_lists["offset"][row])
        entries.append((as_lists["faiss_id"][row], position, profile))
    return entries


class SnapshotStore:
    """Snapshot files in one folder, newest by name (names start with the UTC time of writing)."""

    def __init__(self, directory: Path, keep: int = 2) -> None:
        self.directory = Path(directory)
        self.keep = keep

    def paths(self) -> list[Path]:
        """Snapshot files, newest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"hosts-*{SUFFIX}"), reverse=True)

    def write(self, header: dict[str, Any], index_bytes: np.ndarray) -> SnapshotInfo:
        """Write one snapshot atomically and prune old ones (blocking: call it from a worker thread).

        `header["hosts"]` holds (faiss id, position, HostProfile) triples; they are encoded here, off the
        event loop (profiles are immutable).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        created = datetime.now(UTC)
        body = {key: value for key, value in header.items() if key != "hosts"}
        tables, columns = encode_hosts(header["hosts"])
        body.update(
            format=FORMAT_VERSION,
            created_at=created.isoformat(),
            host_count=len(header["hosts"]),
            tables=tables,
            columns=[
                {"name": name, "dtype": column.dtype.str, "shape": list(column.shape)}
                for name, column in columns.items()
            ],
        )
        text = json.dumps(body, separators=(",", ":")).encode()
        name = f"hosts-{created:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:8]}{SUFFIX}"
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        with open(temporary, "wb") as file:
            file.write(MAGIC)
            file.write(struct.pack("<Q", len(text)))
            file.write(text)
            for column in columns.values():
                file.write(np.ascontiguousarray(column).data.cast("B"))
            file.write(np.ascontiguousarray(index_bytes, dtype=np.uint8).data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        self._sync_directory()
        self._prune()
        return SnapshotInfo(
            path=final,
            created_at=body["created_at"],
            hosts=len(header["hosts"]),
            size_bytes=final.stat().st_size,
        )

    def read(self, path: Path) -> tuple[dict[str, Any], np.ndarray]:
        """The header, with `hosts` as (faiss id, position, HostProfile) triples, and the FAISS bytes."""
        try:
            data = Path(path).read_bytes()
            if data[: len(MAGIC)] != MAGIC:
                raise SnapshotUnreadable(f"{path} is not a matcher snapshot of this format")
            (length,) = struct.unpack_from("<Q", data, len(MAGIC))
            start = len(MAGIC) + 8
            header = json.loads(data[start : start + length])
            cursor = start + length
            columns = {}
            for spec in header.pop("columns"):
                dtype = np.dtype(spec["dtype"])
                count = int(np.prod(spec["shape"])) if spec["shape"] else 1
                size = count * dtype.itemsize
                if cursor + size > len(data):
                    raise SnapshotUnreadable(f"{path}: truncated in column {spec['name']}")
                columns[spec["name"]] = np.frombuffer(data, dtype=dtype, count=count, offset=cursor).reshape(
                    spec["shape"]
                )
                cursor += size
            index_bytes = np.frombuffer(data, dtype=np.uint8, offset=cursor)
            header["hosts"] = decode_hosts(header.pop("tables"), columns)
        except SnapshotUnreadable:
            raise
        except (OSError, ValueError, KeyError, TypeError, struct.error) as error:
            raise SnapshotUnreadable(f"{path}: {error}") from error
        if header.get("format") != FORMAT_VERSION or index_bytes.size == 0:
            raise SnapshotUnreadable(f"{path}: unknown format {header.get('format')!r} or no index")
        if len(header["hosts"]) != header.get("host_count"):
            raise SnapshotUnreadable(f"{path}: {len(header['hosts'])} hosts, header says {header.get('host_count')}")
        return header, index_bytes

    def newest_readable(
        self, reject: Callable[[dict[str, Any]], str | None]
    ) -> tuple[Path, dict[str, Any], np.ndarray] | None:
        """The newest snapshot that reads and that `reject` (header -> reason or None) accepts."""
        for path in self.paths():
            try:
                header, index_bytes = self.read(path)
            except SnapshotUnreadable as error:
                logger.warning("snapshot skipped: unreadable", extra={"path": str(path), "error": str(error)})
                continue
            reason = reject(header)
            if reason:
                logger.warning("snapshot skipped", extra={"path": str(path), "reason": reason})
                continue
            return path, header, index_bytes
        return None

    def _prune(self) -> None:
        for old in self.paths()[self.keep :]:
            old.unlink(missing_ok=True)
        for leftover in self.directory.glob(f".hosts-*{SUFFIX}.tmp"):
            # A temporary file older than a minute was left by a crash while writing.
            if datetime.now(UTC).timestamp() - leftover.stat().st_mtime > 60:
                leftover.unlink(missing_ok=True)

    def _sync_directory(self) -> None:
        # The rename is durable only once the folder itself is flushed.
        try:
            descriptor = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
