"""Pairing and the steps around a sync write nothing on the event loop.

Invariant 8: the event loop only does I/O. ``test_loop_stays_free`` bounds the CPU of any
one callback during a large sync; the small steps (redeeming an invite, the key-history
exchange, relearning our withdrawals after a restore, noting how a sync ended) cost too
little for that bound to see, yet each one writes, and a write on the loop waits for
SQLite's one write lock while other peers' requests hold it (up to the busy timeout). So
this test watches the statements each node's own connection (the one the event loop uses)
runs from the loop's thread while two nodes pair and sync with all those steps, and fails
on any write among them.
"""

from __future__ import annotations

import threading

from archive.key_store import statements_of
from federation.relearn_state import mark_restored, pending_peers
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.key_helpers import give_genesis

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN", "SAVEPOINT", "CREATE", "DROP")


class LoopStatements:
    """The statements run from the event loop's thread on the nodes' own connections."""

    def __init__(self, *nodes: RunningNode) -> None:
        self.loop_thread = threading.current_thread()
        self.watching = True
        self.seen: list[str] = []
        for running in nodes:
            running.node.db.conn.set_trace_callback(self._note)

    def _note(self, statement: str) -> None:
        if self.watching and threading.current_thread() is self.loop_thread:
            self.seen.append(statement)

    def writes(self) -> list[str]:
        return [s for s in self.seen if s.lstrip().upper().startswith(WRITES)]


async def test_pairing_and_the_steps_around_a_sync_write_nothing_on_the_loop(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    give_genesis(a)  # B learns A's key history in the exchange: a write
    code = cluster.invite(a)  # (the operator's own write)
    statements = LoopStatements(a, b)
    await cluster.join(b, code)  # the inviter's route and the joiner's client
    statements.watching = False  # (the test's own write)
    mark_restored(b.node.db, b.node.now())  # B relearns its withdrawals from A first
    statements.watching = True
    report = await cluster.sync(b, a)  # key histories, relearning, the outcome noted

    assert report.errors == []
    assert b.peer(a) is not None and a.peer(b) is not None
    assert b.peer(a).last_sync is not None  # the outcome was noted (in a worker thread)
    assert pending_peers(b.node.db) == []  # relearned, unmarked (in a worker thread)
    assert statements_of(b.node.db, a.node_id) != []  # A's history stored at B (likewise)
    assert len(statements.seen) > 5  # the loop did read (a peer's row, its pinned key)
    assert statements.writes() == [], f"written on the event loop: {statements.writes()}"
