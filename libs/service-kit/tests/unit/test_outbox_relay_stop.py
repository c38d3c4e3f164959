"""A relay stops when asked, even when the store client swallows the cancellation."""

from __future__ import annotations

import asyncio

import pytest

from cx_kit.outbox import OutboxRelay

pytestmark = pytest.mark.unit


class SwallowingCollection:
    """Stands for a store client that turns a cancellation into its own error (as PyMongo's server selection
    can): every call fails, and a cancellation arriving during one is reported as that failure instead."""

    def __init__(self) -> None:
        self.calls = 0
        self.swallow = True
        self.third_call = asyncio.Event()

    async def find_one_and_update(self, *args, **kwargs):
        self.calls += 1
        if self.calls >= 3:
            self.third_call.set()
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            if not self.swallow:
                raise
        raise ConnectionError("server selection timed out")

    async def count_documents(self, *args, **kwargs) -> int:
        return 0


class NoPublisher:
    async def publish_entry(self, entry) -> None:  # pragma: no cover - nothing is ever claimed
        raise AssertionError("nothing to publish")


async def test_stop_returns_even_if_the_cancellation_is_swallowed_mid_pass():
    collection = SwallowingCollection()
    relay = OutboxRelay([collection], NoPublisher(), poll_interval_s=0.01)
    await relay.start()
    await asyncio.wait_for(collection.third_call.wait(), timeout=5)
    stopping = asyncio.create_task(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=2)
    if not done:  # let the failing relay go, so the test fails instead of hanging the session
        collection.swallow = False
        relay._task.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        pytest.fail("stop() did not return: the relay kept running after the swallowed cancellation")
    calls_at_stop = collection.calls
    await asyncio.sleep(0.1)
    assert collection.calls == calls_at_stop, "no pass runs after stop"
