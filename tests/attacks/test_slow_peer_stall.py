"""A paired peer answers a sync as slowly as it can, to stall the node's sync with everyone.

The slow peer (B) sits behind a link that passes a few kilobytes a second, has news for the
node (A), and answers A's pull by dribbling; meanwhile an honest peer (C) announces a lesson.
What must hold: C's lesson reaches A while B is still dribbling (each peer's sync runs on
its own); B's exchange is then cut short by the pace it must keep, with a clear last error
and no strike (slowness may be the network's fault), and A keeps serving.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from federation import pace
from tests.integration.conftest import Cluster, RunningNode

NEWS_DEADLINE = 3.0


async def until(condition: Any, within: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.05)


def last_error(node: RunningNode, other: RunningNode) -> str | None:
    peer = node.peer(other)
    assert peer is not None
    return peer.last_error


async def test_an_honest_lesson_arrives_while_a_slow_peer_dribbles(
    cluster: Cluster, slow_link: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pace, "PROGRESS_WINDOW", 4.0)  # 60 s in service; the same rule
    a = await cluster.start("Hub A", background_sync=True)
    b = await cluster.start("Hub B", "West Africa", background_sync=True)
    c = await cluster.start("Hub C", "South Asia", background_sync=True)
    await cluster.pair(a, b)
    await cluster.pair(a, c)
    link = await slow_link(b.port)
    link.piece, link.pause = 512, 0.1  # about 5 KB/s each way
    a.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [link.url, b.node_id])
    a.node.db.conn.commit()

    slow_news = b.add_many(40, "Dribbled", padding=3_000)  # A pulls ~130 KB through the link
    await until(lambda: link.tasks, NEWS_DEADLINE, "A's pull from B")
    honest = c.add("Urgent news from C")

    await until(lambda: a.has(honest), NEWS_DEADLINE, "C's lesson reaching A")

    assert last_error(a, b) is None  # B's exchange is still going on
    assert sum(a.has(record) for record in slow_news) < len(slow_news)
    await until(lambda: last_error(a, b), 20.0, "the cut of B's exchange")
    assert "too slow" in str(last_error(a, b))
    assert a.count("strikes") == 0
    assert await cluster.healthy(a)
