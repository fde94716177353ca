"""Deadlines for a whole exchange with one peer: an upper bound, and a pace it must keep.

Each request of a sync has its own deadline, but a peer can answer every one just in time
with one small record, and stretch an exchange over hours. So a sync is also watched as a
whole: it ends after :data:`EXCHANGE_DEADLINE`, and every :data:`PROGRESS_WINDOW` that
begins after data has started to move (the first reconciliation answer: the peer may take
long to build its offer set before that, bounded by its own deadline) must move at least
:data:`MIN_PROGRESS_BYTES`. A sync cut short keeps every batch it stored; the next one goes
on from there. Slowness earns no strike: a congested network looks the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

from crypto.errors import RhizomeError
from federation.errors import PeerTooSlow

EXCHANGE_DEADLINE = 3600.0
PROGRESS_WINDOW = 60.0
MIN_PROGRESS_BYTES = 32 * 1024

T = TypeVar("T")


async def paced(work: Awaitable[T], moved: Callable[[], int], peer_name: str) -> T:
    """Await ``work`` (one exchange with ``peer_name``), cancelling it with
    :class:`PeerTooSlow` when it runs past the deadline or falls below the pace.
    ``moved()`` says how many bytes the exchange has moved so far, both ways."""
    task = asyncio.ensure_future(work)
    try:
        async with asyncio.timeout(EXCHANGE_DEADLINE):
            before = moved()
            while True:
                done, _ = await asyncio.wait({task}, timeout=PROGRESS_WINDOW)
                if done:
                    return task.result()
                now_moved = moved()
                # Judge only whole windows that began once data moved: a first window may
                # hold a long first round that built the peer's offer set.
                if before > 0 and now_moved - before < MIN_PROGRESS_BYTES:
                    raise PeerTooSlow(
                        f"{peer_name} was too slow: {now_moved - before:,} bytes in the last "
                        f"{PROGRESS_WINDOW:g} s (at least {MIN_PROGRESS_BYTES:,} needed); "
                        "what arrived is kept and the next sync goes on from there"
                    )
                before = now_moved
    except TimeoutError as error:
        raise PeerTooSlow(
            f"the exchange with {peer_name} took longer than {EXCHANGE_DEADLINE:g} s; what "
            "arrived is kept and the next sync goes on from there"
        ) from error
    finally:
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError, RhizomeError):
                await task
