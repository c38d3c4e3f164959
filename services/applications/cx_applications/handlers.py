"""The applications service's use case for what the matcher finds: keep the latest run of a known application."""

from __future__ import annotations

import logging
from typing import Protocol

from cx_contracts.events import MatchFound
from cx_kit.aggregates import AggregateRecord

logger = logging.getLogger(__name__)


class Applications(Protocol):
    """The applications the service holds (active ones only)."""

    async def get(self, aggregate_id: str) -> AggregateRecord | None: ...


class LatestRuns(Protocol):
    """The latest run kept per application."""

    async def keep(self, event: MatchFound) -> bool: ...


async def keep_latest_run(run: MatchFound, applications: Applications, latest_runs: LatestRuns) -> bool:
    """Keep `run` as its application's latest; a run for an unknown or withdrawn application, and one older than
    (or the same as) the kept run (an older application revision, or the same one earlier), change nothing.
    Returns whether it was kept."""
    context = {"application_id": str(run.application_id), "match_run_id": str(run.match_run_id)}
    if await applications.get(str(run.application_id)) is None:
        logger.info("match run for an unknown or withdrawn application ignored", extra=context)
        return False
    kept = await latest_runs.keep(run)
    logger.info("match run %s", "kept" if kept else "older than the stored one, ignored", extra=context)
    return kept
