"""Key history fork: two rotations signed by one key (a thief's and the owner's).

A thief who copied A's key rotates A to its own key and tells B; A, not knowing, rotates as
usual and syncs with B. B now holds two statements that follow A's genesis. What must hold:
B keeps both signed statements as evidence (``key_forks``), moves A to ``forked``, stops
every exchange with A in both directions and says why, accepts neither branch's key, and
keeps serving. A's recovery (inside the window) settles it: A is active again at B, with the
key the recovery named.
"""

from __future__ import annotations

import time

from archive.key_store import current_key, fork_of, statements_of
from crypto.key_statements import open_statement
from tests.attacks.test_stolen_key_rotation import THIEF, steal_and_rotate
from tests.conftest import FakeClock
from tests.integration.conftest import Cluster
from tests.integration.key_helpers import give_genesis, recovered, rotated


async def test_two_rotations_from_one_key_stop_sync_until_a_recovery(cluster: Cluster) -> None:
    clock = FakeClock(time.time())
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(b, a)
    give_genesis(a)
    assert (await cluster.sync(a, b)).errors == []
    first_key = a.node.public_key
    await steal_and_rotate(cluster, a, b)
    a, own = await rotated(cluster, a, clock)  # the owner rotates, not knowing

    report = await cluster.sync(a, b)
    assert any("forked" in error or "two statements" in error for error in report.errors)
    assert b.peer(a).status == "forked"  # type: ignore[union-attr]
    evidence = fork_of(b.node.db, a.node_id)
    assert evidence is not None
    stored = {open_statement(raw).id_hex: open_statement(raw) for raw in
              statements_of(b.node.db, a.node_id)}  # fmt: skip
    branches = {stored[evidence[0]].key, stored[evidence[1]].key}
    assert branches == {THIEF.public_key, own.statement.key}
    assert current_key(b.node.db, a.node_id) == first_key  # neither branch is trusted
    assert (await cluster.sync(b, a)).errors  # B does not talk to A either
    assert await cluster.healthy(b)

    a, recovery = await recovered(cluster, a, since=None, after=stored[evidence[0]].prev.hex(),
                                  clock=clock)  # fmt: skip
    assert (await cluster.sync(a, b)).errors == []
    assert b.peer(a).status == "active"  # type: ignore[union-attr]
    assert fork_of(b.node.db, a.node_id) is None
    assert current_key(b.node.db, a.node_id) == recovery.statement.key
