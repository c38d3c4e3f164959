"""A job run in the background on a timer, from the service's start to its stop (a `BackgroundWorker`).

The outbox relay and the notifier's sweeps share this loop: run the job, wait the interval (or less, when
woken), run it again; a failing run is logged and the loop goes on, so one bad pass never stops a worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class PeriodicTask:
    """Runs `job` at start and then every `interval_s` seconds until stopped; a failing run is logged.

    With `again_while_busy`, a run whose result is truthy (it found work, so more may be waiting) is followed
    by the next at once instead of after the interval. `wake()` cuts the current wait short.
    """

    def __init__(
        self, name: str, interval_s: float, job: Callable[[], Awaitable[object]], *, again_while_busy: bool = False
    ) -> None:
        self.name = name
        self._interval_s = interval_s
        self._job = job
        self._again_while_busy = again_while_busy
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Run the job now rather than at the end of the current wait."""
        self._wake.set()

    async def start(self) -> None:
        """Start running in the background."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop; a run in progress is cancelled, so whatever the job does must be resumable."""
        if self._task is not None:
            # The flag ends the loop even if a library swallows the cancellation (PyMongo's server selection can
            # turn it into a timeout error, and Python 3.11's wait_for can lose it), which would leave stop() waiting.
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                result = await self._job()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning(
                    "periodic job failed; next run after the interval",
                    extra={"job": self.name, "error": f"{type(error).__name__}: {error}"[:500]},
                )
                result = None
            if self._stopping or (self._again_while_busy and result):
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval_s)
            except TimeoutError:
                pass
            self._wake.clear()
