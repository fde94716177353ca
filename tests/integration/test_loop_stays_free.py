"""A sync over a large archive never blocks the node's event loop.

Invariant 8: the event loop only does I/O. Building an offer set, reconciling over it,
verifying and storing what arrives and deciding what leaves all scan or verify, so they run
in worker threads with connections of their own. This test runs a real exchange between
two real nodes in this process (one event loop, as ``rhizome serve`` has), over an archive
large enough that the old code held the loop for about half a second per offer set, while
``/healthz`` is asked again and again and a heartbeat task ticks. What is measured is the
CPU time the loop's own thread spends in any one callback (``time.thread_time`` around each
``Handle._run``): unlike a wall-clock gap it does not grow when a busy machine preempts the
process, so the bound can be tight. Putting a scan, a verification or a store back on the
loop makes one callback cost far more than the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from archive.db import transaction
from archive.record import Consent, Lesson
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import insert_record
from tests.integration.conftest import Cluster, RunningNode

ARCHIVE = 8_000  # the old code's offer set build alone held the loop ~0.5 s at this size
MISSING = 600  # what the syncing peer lacks: fetched, verified and stored during the test
OWN = 300  # what only the syncing peer holds: pushed and stored at the other side
# No callback on the loop may use more CPU than this: a request's parsing, TLS and
# encoding fit many times over; a scan of the archive or a batch to verify does not.
MAX_CALLBACK_CPU = 0.1
# CPU time misses a loop that waits (for SQLite's write lock, up to its 10 s busy timeout):
# the heartbeat's longest gap catches that, with room for a busy machine's scheduling.
MAX_LOOP_GAP = 2.0
TICK = 0.005


def generated(running: RunningNode, count: int, prefix: str) -> list[SignedRecord]:
    """``count`` short lessons of ``running``'s origin, signed (not stored)."""
    identity = running.node.identity
    base = int(time.time()) - 86_400
    return [
        sign_lesson(
            identity,
            Lesson(
                kind="checklist",
                title=f"{prefix} {n}",
                body=f"Step {n}: bring water.\n",
                language="en",
                region="East Africa",
                created=base + n // 3,
                origin=identity.public_key,
                author="admin",
                consent=Consent(basis="consent", scope="federation", reshare=True),
            ),
        )
        for n in range(count)
    ]


def store(running: RunningNode, records: list[SignedRecord], received_from: str | None) -> None:
    db = running.node.db
    with transaction(db):
        for record in records:
            insert_record(db, record, received_from, 0)


class CallbackCPU:
    """The most CPU time the event loop's thread spent in one callback, while active."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.callbacks = 0
        self._original = asyncio.events.Handle._run

    def __enter__(self) -> CallbackCPU:
        original, meter = self._original, self

        def timed(handle: asyncio.Handle) -> None:
            started = time.thread_time()
            try:
                original(handle)
            finally:
                meter.longest = max(meter.longest, time.thread_time() - started)
                meter.callbacks += 1

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]


class Heartbeat:
    """A task that ticks every few milliseconds and keeps the longest gap between ticks."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            self.longest = max(self.longest, now - last - TICK)
            self.ticks += 1
            last = now


async def ping_health(cluster: Cluster, running: RunningNode, answered: list[float]) -> None:
    while True:
        started = time.perf_counter()
        assert await cluster.healthy(running)
        answered.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)


async def test_a_large_sync_never_blocks_the_event_loop(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    archive = generated(a, ARCHIVE, "Lesson")
    store(a, archive, None)
    store(b, archive[:-MISSING], a.node_id)  # B received most of A's archive before
    store(b, generated(b, OWN, "B's lesson"), None)

    heartbeat = Heartbeat()
    answered: list[float] = []
    beating = asyncio.create_task(heartbeat.run())
    pinging = asyncio.create_task(ping_health(cluster, a, answered))
    try:
        with CallbackCPU() as loop_work:
            report = await cluster.sync(b, a)
    finally:
        beating.cancel()
        pinging.cancel()
        for task in (beating, pinging):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert report.errors == []
    assert (report.received, report.sent) == (MISSING, OWN)
    assert a.count("records") == ARCHIVE + OWN and b.count("records") == ARCHIVE + OWN
    assert heartbeat.ticks > 10 and len(answered) > 3  # the loop ran all along
    assert loop_work.callbacks > 100
    assert heartbeat.longest < MAX_LOOP_GAP, f"the loop stalled {heartbeat.longest:.3f} s"
    assert loop_work.longest < MAX_CALLBACK_CPU, (
        f"one callback held the event loop for {loop_work.longest:.3f} s of CPU during the sync "
        f"(longest gap between heartbeats: {heartbeat.longest:.3f} s)"
    )
