"""Background jobs that run on a timer beside the consumer: the resume sweep and the digests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class PeriodicTask:
    """Runs `job` at start and then every `interval_s` seconds until stopped; a failing run is logged."""

    def __init__(self, name: str, interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self._interval_s = interval_s
        self._job = job
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start running in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop; a run in progress is cancelled (everything it does is resumable)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._job()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("periodic job failed; next run after the interval",
                               extra={"job": self.name, "error": f"{type(error).__name__}: {error}"[:500]})
            await asyncio.sleep(self._interval_s)
