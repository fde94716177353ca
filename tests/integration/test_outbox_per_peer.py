"""Each peer's outbox delivery runs on its own: a hung peer never delays another's withdrawals.

Hub A shares two lessons with B and C, then B goes behind a link that passes one byte and
then stalls (a peer on a dead network, or one that answers as slowly as it can). A revokes
the first lesson, then the second: C must purge both and send its receipts while A's
delivery to B is still hanging, well before that delivery's deadline
(``background.OUTBOX_DEADLINE``). The background loops sleep on a clock the test turns.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from federation import background
from federation.propagation import revoke
from tests.conftest import ManualLoopClock
from tests.integration.conftest import Cluster
from tests.integration.revocation_helpers import admin_actor, dead_loops, eventually, statuses

# Well under OUTBOX_DEADLINE: a delivery that waited for B's would miss it.
RECEIPT_DEADLINE = background.OUTBOX_DEADLINE / 2


async def test_a_hung_peer_does_not_delay_another_peers_withdrawals(
    cluster: Cluster, slow_link: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rhizome.federation")
    loop_clock = ManualLoopClock()
    a, b, c = [
        await cluster.start(name, background_sync=True, loop_clock=loop_clock)
        for name in ("Hub A", "Hub B", "Hub C")
    ]
    await cluster.pair(a, b)
    await cluster.pair(a, c)
    first = a.add("First lesson", "Shared with B and C.\n")
    second = a.add("Second lesson", "Shared with B and C too.\n")
    for holder in (b, c):
        assert (await cluster.sync(holder, a)).errors == []
        assert holder.has(first) and holder.has(second)
    link = await slow_link(b.port)
    link.piece, link.pause = 1, 3600.0  # one byte, then nothing for an hour
    a.node.db.execute("UPDATE peers SET url = ? WHERE node_id = ?", [link.url, b.node_id])
    a.node.db.conn.commit()

    for record in (first, second):
        revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)

        def purged_at_c(record_id: str = record.id_hex) -> bool:
            assert not dead_loops(a), dead_loops(a)
            return statuses(a, record_id).get(c.node_id) == "purged"

        await eventually(
            purged_at_c, "C's purge receipt while B hangs", RECEIPT_DEADLINE, loop_clock=loop_clock
        )
        assert not c.has(record)
        # B's delivery is still hanging in the link, in its own task, and never ran out of
        # time: C's receipts did not wait for it.
        assert link.tasks and b.has(record)
        assert f"revocations for {b.name} wait" not in caplog.text
        assert delivery_to(b.node_id), "no delivery to B under way"
        assert statuses(a, record.id_hex).get(b.node_id) == "pending"
    assert await cluster.healthy(a)


def delivery_to(node_id: str) -> list[asyncio.Task[Any]]:
    """The background outbox delivery tasks to ``node_id`` still running."""
    name = background.PEER_OUTBOX_PREFIX + node_id[:12]
    return [task for task in asyncio.all_tasks() if task.get_name() == name and not task.done()]
