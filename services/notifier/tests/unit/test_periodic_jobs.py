"""The notifier's sweeps (resume, digests, archive, prune) run on the kit's PeriodicTask: at start, then on a
timer; a failing run does not stop them; stopping cancels a run in progress."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from cx_kit.periodic import PeriodicTask
from cx_kit.testing import wait_until

pytestmark = pytest.mark.unit


async def _true(value: bool) -> bool:
    return value


async def test_a_job_runs_at_start_and_again_after_each_interval() -> None:
    runs: list[float] = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())

    task = PeriodicTask("counting", 0.05, job)
    await task.start()
    try:
        await wait_until(lambda: _true(len(runs) >= 3), timeout=5, interval=0.01, message="three runs")
    finally:
        await task.stop()

    assert all(later - earlier >= 0.04 for earlier, later in itertools.pairwise(runs))


async def test_a_failing_run_is_logged_and_the_next_run_still_happens(caplog: pytest.LogCaptureFixture) -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("store unreachable")

    task = PeriodicTask("flaky", 0.01, job)
    await task.start()
    try:
        await wait_until(lambda: _true(runs >= 2), timeout=5, interval=0.01, message="a run after the failure")
    finally:
        await task.stop()

    failures = [r for r in caplog.records if r.getMessage().startswith("periodic job failed")]
    assert failures and failures[0].job == "flaky" and "RuntimeError: store unreachable" in failures[0].error


async def test_stopping_cancels_a_run_in_progress() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def job() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = PeriodicTask("slow", 60, job)
    await task.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await asyncio.wait_for(task.stop(), timeout=5)

    assert cancelled.is_set()


async def test_a_busy_job_runs_again_at_once_and_wake_cuts_the_wait_short() -> None:
    backlog = [3]
    runs = 0

    async def job() -> int:
        nonlocal runs
        runs += 1
        if backlog[0]:
            backlog[0] -= 1
            return 1
        return 0

    task = PeriodicTask("draining", 60, job, again_while_busy=True)
    await task.start()
    try:
        await wait_until(lambda: _true(runs == 4), timeout=5, interval=0.01, message="the backlog drained")
        task.wake()
        await wait_until(lambda: _true(runs == 5), timeout=5, interval=0.01, message="a run when woken")
    finally:
        await task.stop()
