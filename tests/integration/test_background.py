"""Background sync in running nodes: news travels without a manual sync, and shutdown is clean.

Both nodes run ``create_app(node, background_sync=True)``, as ``rhizome serve`` does. Nothing
calls ``sync_with_peer`` by hand here: a lesson added on one node must show up in the other
node's database on its own. The loops sleep on a clock the test turns (``ManualLoopClock``),
so news travels as fast as the machine allows; the wall clock only bounds a hung test.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.signed_record import SignedRecord
from federation.background import TASK_PREFIX, WATCH_SECONDS, SyncService
from node.node import Node
from node.web.app import SYNC
from tests.conftest import ManualLoopClock, write_lesson
from tests.integration.conftest import LOOPBACK, Cluster, RunningNode

NEWS_DEADLINE = 3.0


async def arrives(
    node: RunningNode, record: SignedRecord, loop_clock: ManualLoopClock | None
) -> None:
    """Turn the loops' clock, one watch pause at a time, until ``node`` holds ``record``
    (without a clock to turn, the loops run on real time: fail after ``NEWS_DEADLINE``)."""
    start = time.monotonic()
    while not node.has(record):
        if time.monotonic() - start > NEWS_DEADLINE:
            pytest.fail(f"{node.name} did not receive {record.id_hex[:12]} in {NEWS_DEADLINE} s")
        if loop_clock is None:
            await asyncio.sleep(0.05)
        else:
            await loop_clock.turn(WATCH_SECONDS)


async def background_pair(
    cluster: Cluster, loop_clock: ManualLoopClock
) -> tuple[RunningNode, RunningNode]:
    a = await cluster.start("Hub A", background_sync=True, loop_clock=loop_clock)
    b = await cluster.start("Hub B", "West Africa", background_sync=True, loop_clock=loop_clock)
    await cluster.pair(a, b)
    return a, b


def loop_tasks() -> list[asyncio.Task[object]]:
    """Unfinished background tasks of any :class:`SyncService` (named with its prefix)."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_name().startswith(TASK_PREFIX)
    ]


@pytest.fixture
def asyncio_errors(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """What asyncio logged about tasks destroyed while pending or exceptions never retrieved."""
    caplog.set_level(logging.ERROR, logger="asyncio")

    def found() -> list[str]:
        gc.collect()
        return [r.getMessage() for r in caplog.records if r.name == "asyncio"]

    yield found


@pytest.mark.parametrize("direction", ["A to B", "B to A"])
async def test_a_new_lesson_reaches_the_peer_without_a_manual_sync(
    cluster: Cluster, loop_clock: ManualLoopClock, direction: str
) -> None:
    a, b = await background_pair(cluster, loop_clock)
    author, reader = (a, b) if direction == "A to B" else (b, a)

    record = author.add("News from the field")

    await arrives(reader, record, loop_clock)
    assert reader.row(record)["received_from"] == author.node_id


async def test_a_lesson_added_by_another_process_reaches_the_peer(
    cluster: Cluster, loop_clock: ManualLoopClock, tmp_path: Path
) -> None:
    """A second ``Node`` on A's home (its own SQLite connection), as ``rhizome lesson add``
    would open while ``rhizome serve`` runs."""
    a, b = await background_pair(cluster, loop_clock)
    front = {"title": "Added from the CLI", "kind": "checklist", "consent": {"scope": "federation"}}
    path = write_lesson(tmp_path, "from-cli.md", front, "Written by another process.\n")
    other = Node(a.home)
    try:
        record = other.add_lesson_file(path)
    finally:
        other.close()
    assert a.has(record)  # the server's connection sees it

    await arrives(b, record, loop_clock)


async def test_local_lessons_are_not_announced_or_pulled(
    cluster: Cluster, loop_clock: ManualLoopClock
) -> None:
    a, b = await background_pair(cluster, loop_clock)
    kept = a.add("Stays here", scope="local")
    shared = a.add("Goes out")

    await arrives(b, shared, loop_clock)

    assert not b.has(kept)


async def test_a_stalled_peer_does_not_hold_up_news_for_the_others(cluster: Cluster) -> None:
    """A paired node that accepts connections but never answers (hung, or a black hole on the
    way) must not delay news to every peer listed after it. Real time here: the point is that
    news reaches B while the notice to the stalled peer still hangs."""
    a = await cluster.start("Hub A", background_sync=True)
    stalled = await cluster.start("Hub Aardvark")  # listed before Hub B
    b = await cluster.start("Hub B", "West Africa", background_sync=True)
    await cluster.pair(a, stalled)
    await cluster.pair(a, b)
    port = stalled.port
    await cluster.stop(stalled)
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind((LOOPBACK, port))
    silent.listen(16)  # the kernel completes connections; no one ever reads or answers
    try:
        record = a.add("Urgent news")
        await arrives(b, record, None)
    finally:
        silent.close()


async def test_shutdown_cancels_the_background_tasks_cleanly(
    cluster: Cluster, loop_clock: ManualLoopClock, asyncio_errors: Callable[[], list[str]]
) -> None:
    a, b = await background_pair(cluster, loop_clock)
    services: list[SyncService] = [a.app[SYNC], b.app[SYNC]]
    tasks = [task for service in services for task in service._tasks]
    assert len(tasks) >= 6 and not any(task.done() for task in tasks)  # 3 loops or more each
    assert len(loop_tasks()) == len(tasks)
    await arrives(b, a.add("Before shutdown"), loop_clock)

    await cluster.stop(b)
    await cluster.stop(a)

    assert all(task.cancelled() for task in tasks), [task for task in tasks if not task.done()]
    assert all(service._tasks == [] for service in services)
    assert loop_tasks() == []
    assert asyncio_errors() == []


async def test_shutdown_in_the_middle_of_a_background_sync_is_clean(
    cluster: Cluster, loop_clock: ManualLoopClock, asyncio_errors: Callable[[], list[str]]
) -> None:
    a, b = await background_pair(cluster, loop_clock)
    records = a.add_many(600, "Drill")
    service = b.app[SYNC]
    tasks = list(service._tasks)
    await loop_clock.turn(WATCH_SECONDS)  # A's watch loop tells B; B pulls in a task of its own
    start = time.monotonic()
    while b.count("records") == 0:  # B is pulling: stop it before it has everything
        assert time.monotonic() - start < NEWS_DEADLINE, "B never started pulling"
        await asyncio.sleep(0.01)

    await cluster.stop(b)

    assert tasks and all(task.done() for task in tasks)
    assert service._tasks == []
    reopened = Node(b.home)
    try:
        held = int(reopened.db.execute("SELECT count(*) FROM records").fetchone()[0])
        assert reopened.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        reopened.close()
    assert 0 < held <= len(records)
    assert asyncio_errors() == []
