"""Attack: bring a withdrawn lesson back by restoring a holder from an old backup.

A holder (B) purged a withdrawn lesson and sent its receipt. Its operator (or someone who
wants the lesson to survive) restores B's home from a backup taken before the revocation:
B holds the lesson again and knows nothing of the withdrawal. Before the fix, twelve syncs
with the origin later B still held it (its policy kept it from offering the record back, so
nobody noticed), passed it on to a new peer, and the origin's receipts said B had purged it.

What must hold: the very next exchange with the origin, whichever side starts it, purges
the lesson at B (tombstones travel with reconciliation, every time, not once); the origin
keeps the evidence that B held a copy after its receipt and shows B *pending* until B's new
receipt arrives, then *purged*; a new peer of B never gets the lesson.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from federation import endpoints
from federation.propagation import receipt_status, revoke
from federation.revocation import open_revocation
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import (
    ShiftedClock,
    admin_actor,
    canary,
    copy_home,
    files_with,
    port_socket,
    serve,
    statuses,
)


async def restore(
    cluster: Cluster, b: RunningNode, backup: Path, clock: ShiftedClock, name: str
) -> RunningNode:
    """Stop B and serve, on B's port, a fresh copy of the backup of B's home."""
    home = b.home.parent / name
    shutil.copytree(backup, home)
    port = b.port
    await cluster.stop(b)
    return await serve(cluster, home, port_socket(port), background_sync=False, clock=clock)


async def withdrawn_at_b(
    cluster: Cluster, reshare: bool
) -> tuple[ShiftedClock, RunningNode, RunningNode, Path, str, str]:
    """A wrote a lesson, B received it, a backup of B's home was taken, then A withdrew the
    lesson and B purged it with a receipt. Returns the backup's folder."""
    clock = ShiftedClock()
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B", clock=clock)
    await cluster.pair(a, b)
    word = canary()
    record = a.add("Shelter addresses", f"Knock at {word}.\n", reshare=reshare)
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(record)
    backup_home = b.home.parent / "hub-b-backup"
    copy_home(b, backup_home, b.port)
    revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    assert (await cluster.sync(b, a)).errors == []
    assert statuses(a, record.id_hex) == {b.node_id: "purged"}
    clock.advance(60)  # the restore happens later
    return clock, a, b, backup_home, record.id_hex, word


def holds(running: RunningNode, record_id: str) -> bool:
    return running.count("records", "id = ?", [record_id]) == 1


@pytest.mark.parametrize("reshare", [False, True], ids=["no reshare", "reshare"])
@pytest.mark.parametrize("starts", ["the restored holder", "the origin"])
async def test_a_restored_holder_purges_at_its_next_exchange_every_time(
    cluster: Cluster, starts: str, reshare: bool
) -> None:
    clock, a, b, backup, record_id, word = await withdrawn_at_b(cluster, reshare)
    for restore_number in (1, 2):  # every time, not once
        b = await restore(cluster, b, backup, clock, f"hub-b-restored-{restore_number}")
        assert holds(b, record_id) and files_with(b.home, word)

        report = await (
            cluster.sync(b, a) if starts == "the restored holder" else cluster.sync(a, b)
        )

        assert report.errors == []
        assert not holds(b, record_id), f"restore {restore_number}: B still holds the lesson"
        assert files_with(b.home, word) == []
        assert statuses(a, record_id) == {b.node_id: "purged"}
        assert a.count("outbox") == 0
        clock.advance(60)

    d = await cluster.start("Hub D", clock=clock)  # a new peer of the restored holder
    await cluster.pair(b, d)
    assert (await cluster.sync(d, b)).errors == []
    assert (await cluster.sync(b, d)).errors == []
    assert not holds(d, record_id) and files_with(d.home, word) == []


async def test_the_origin_shows_the_restored_holder_pending_with_the_evidence_until_it_purges(
    cluster: Cluster,
) -> None:
    """The restored B asks A about the ids it holds (the reconciliation's tombstone query)
    and then fails before it can purge: A has seen the copy, so its old receipt no longer
    counts. B's next exchange purges it, and A shows B purged again."""
    clock, a, b, backup, record_id, word = await withdrawn_at_b(cluster, reshare=False)
    b = await restore(cluster, b, backup, clock, "hub-b-restored")
    old_receipt = a.node.db.execute("SELECT receipt_id FROM receipts").fetchone()

    for _ in range(2):  # asked twice, answered twice: the tombstone is not sent only once
        answer = await cluster.client(b).call(
            endpoints.TOMBSTONES,
            {"ids": [bytes.fromhex(record_id)]},
            recipient=a.node_id,
            base_url=a.url,
        )  # fmt: skip
        (revocation,) = [open_revocation(raw) for raw in answer["revocations"]]
        assert record_id in revocation.record_ids

    (shown,) = receipt_status(a.node.db, record_id)[1]
    assert (shown.node, shown.status) == (b.node_id, "pending")
    assert shown.evidence is not None and record_id[:12] in shown.evidence
    assert holds(b, record_id)

    assert (await cluster.sync(b, a)).errors == []

    (shown,) = receipt_status(a.node.db, record_id)[1]
    assert (shown.status, shown.verified) == ("purged", True)
    new_receipt = a.node.db.execute("SELECT receipt_id FROM receipts").fetchone()
    assert new_receipt != old_receipt
    assert a.count("copies_seen") == 1  # the evidence is kept
    assert not holds(b, record_id) and files_with(b.home, word) == []
