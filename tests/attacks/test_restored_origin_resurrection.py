"""Attack: bring a withdrawn lesson back by restoring its *origin* from an old backup.

Hub A wrote a lesson, B received it, A's operator took a backup (``rhizome backup``, while A
was serving), then A withdrew the lesson and B purged it. Now A's home is restored from that
backup (``rhizome restore``), by its operator after a disk failure or by someone who wants the
lesson back: the restored A holds the lesson again and knows nothing of its own withdrawal.

What must hold: the restored A offers nothing to anyone until it has asked each peer for the
withdrawals it signed itself; a peer that syncs with it first gets nothing (the lesson is never
offered again, not even as an id); at A's first exchange with B it takes its own revocation
back, purges the lesson (the canary is in no file of the restored home) and then syncs as
usual; a hub that pairs with the restored A later never gets the lesson; B still holds only
the tombstone.
"""

from __future__ import annotations

from pathlib import Path

from federation.peers import get_peer
from federation.propagation import revoke
from federation.relearn_state import offers_held, pending_peers
from federation.sharing import Offer
from node.backup import restore_backup, write_backup
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import (
    ShiftedClock,
    admin_actor,
    canary,
    files_with,
    port_socket,
    serve,
)

BACKUP_PASSPHRASE = "the backup passphrase of hub A"


def holds(running: RunningNode, record_id: str) -> bool:
    return running.count("records", "id = ?", [record_id]) == 1


def inbound_decisions(running: RunningNode, record_id: str, peer: RunningNode) -> int:
    return running.count(
        "decisions", "direction = 'inbound' AND record_id = ? AND peer_id = ?",
        [record_id, peer.node_id],
    )  # fmt: skip


async def restored_origin(
    cluster: Cluster, tmp: Path
) -> tuple[ShiftedClock, RunningNode, RunningNode, str, str]:
    """A's lesson reached B; A was backed up, then withdrew it; A is restored and serving."""
    clock = ShiftedClock()
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(a, b)
    word = canary()
    record = a.add("Safe house rota", f"Ask for {word} at the door.\n")
    assert (await cluster.sync(b, a)).errors == [] and b.has(record)

    backup = tmp / "hub-a.backup"
    write_backup(a.node, backup, BACKUP_PASSPHRASE)  # while A serves
    revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    assert (await cluster.sync(b, a)).errors == []
    assert not b.has(record) and files_with(b.home, word) == []

    clock.advance(60)
    port = a.port
    await cluster.stop(a)
    home = tmp / "hub-a-restored"
    restore_backup(backup, home, lambda: BACKUP_PASSPHRASE)
    assert files_with(home, word), "the backup holds the lesson (as a backup must)"
    restored = await serve(cluster, home, port_socket(port), background_sync=False, clock=clock)
    assert holds(restored, record.id_hex)
    return clock, restored, b, record.id_hex, word


async def test_the_restored_origin_relearns_its_withdrawal_first(
    cluster: Cluster, tmp_path: Path
) -> None:
    clock, a, b, record_id, word = await restored_origin(cluster, tmp_path)
    db = a.node.db
    assert pending_peers(db) == [b.node_id] and offers_held(db)
    peer_b = get_peer(db, b.node_id)
    assert peer_b is not None
    assert Offer.of(a.node.local_node()).offer_items(peer_b) == []

    # B reaches the restored A first: A offers nothing, so B never sees the lesson again.
    decided = inbound_decisions(b, record_id, a)  # the one that took it in, before
    assert (await cluster.sync(b, a)).errors == []
    assert not holds(b, record_id)
    assert inbound_decisions(b, record_id, a) == decided

    # A's first exchange with B: its own withdrawal comes back before anything moves.
    report = await cluster.sync(a, b)
    assert report.errors == []
    assert not holds(a, record_id)
    assert files_with(a.home, word) == []
    assert pending_peers(db) == [] and not offers_held(db)
    assert a.count("events", "kind = 'restore.relearned' AND subject = ?", [b.node_id]) == 1

    # Syncs go on as usual, and the lesson never travels again, to B or to a new peer.
    fresh = a.add("A new checklist", "Still here.\n")
    assert (await cluster.sync(b, a)).errors == [] and b.has(fresh)
    c = await cluster.start("Hub C", clock=clock)
    await cluster.pair(a, c)
    assert (await cluster.sync(c, a)).errors == [] and (await cluster.sync(a, c)).errors == []
    assert c.has(fresh) and not holds(c, record_id) and files_with(c.home, word) == []
    assert not holds(b, record_id) and inbound_decisions(b, record_id, a) == decided


async def test_nothing_is_offered_while_a_peer_has_not_answered(
    cluster: Cluster, tmp_path: Path
) -> None:
    clock, a, b, record_id, word = await restored_origin(cluster, tmp_path)
    # B is down when A comes back: A's exchange with B fails and A keeps offering nothing.
    port_b = b.port
    await cluster.stop(b)
    c = await cluster.start("Hub C", clock=clock)
    await cluster.pair(a, c)
    assert (await cluster.sync(c, a)).errors == []
    assert not holds(c, record_id) and inbound_decisions(c, record_id, a) == 0  # never offered
    assert offers_held(a.node.db)
    # B is back: the next exchange relearns, and only then does A share again.
    b = await serve(cluster, b.home, port_socket(port_b), background_sync=False, clock=clock)
    assert (await cluster.sync(a, b)).errors == []
    assert not holds(a, record_id) and files_with(a.home, word) == []
    assert not offers_held(a.node.db)
