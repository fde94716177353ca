"""The clock the background loops sleep on, so tests can move it instead of waiting.

:class:`SyncService` never calls ``asyncio.sleep`` or ``loop.time()`` itself: it asks its
:class:`LoopClock`. ``rhizome serve`` uses :class:`AsyncioClock` (the event loop's own
monotonic clock); a test passes a clock it advances by hand (``ManualLoopClock`` in
tests/conftest.py), so "the outbox poll ran three times and sent nothing" is a fact the test
waited for, not a guess after a wall-clock sleep.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Protocol


class LoopClock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for retry pauses)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock."""
        ...

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        """Return when ``event`` is set or ``timeout`` seconds have passed, whichever is first."""
        ...


class AsyncioClock:
    """The event loop's clock: what a running node uses."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
