"""Attack: kill -9 during a purge.

The attacker (or a power cut, or an operator's panicked ``kill -9``) stops a holder's
process in the middle of a purge: after the transaction that deletes the withdrawn lesson
committed, but before the search index was merged and the WAL checkpointed and truncated.
Before the fix the lesson's text stayed in ``rhizome.db-wal`` / ``rhizome.db`` for good
while the signed receipt already said "purged".

What must hold, at every step of the purge a crash can fall between (real subprocesses,
really killed with SIGKILL):

- a receipt exists only for a purge that was durable when it was signed: never a receipt
  while the canary is still in a file of the home;
- at the next start, before anything else (a CLI command, or a server in a worker thread
  before its port opens), the node finishes the purge: the canary is in no file of the home,
  and ``rhizome verify`` passes;
- the origin asking again gets a receipt, and the canary stays gone;
- a purge that cannot be scrubbed yet (another process holds the database) is answered with
  "retry later", never with a receipt, and the receipt comes once it is scrubbed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from federation.propagation import revoke
from node.config import load_config
from node.home import CONFIG_FILE, DATABASE_FILE
from tests.faults.crash import (
    KILLED,
    harness,
    origin_and_stopped_holder,
    receipts_for,
    revocation_file,
    snapshot,
)
from tests.integration.conftest import Cluster, files_containing
from tests.integration.revocation_helpers import (
    ShiftedClock,
    admin_actor,
    canary,
    port_socket,
    rhizome,
    serve,
    statuses,
)

# Steps after which the old bytes are still on the disk: the window the attack aims at.
BEFORE_THE_SCRUB = ("purge-committed", "index-merged")
AFTER_THE_COMMIT = (*BEFORE_THE_SCRUB, "checkpointed", "marker-cleared", "receipt-stored")
RETRY_PAUSE = 60  # seconds: past the origin's first pause before it sends a withdrawal again


async def test_a_crash_at_any_step_of_a_purge_leaves_no_trace_and_no_early_receipt(
    cluster: Cluster, tmp_path: Path
) -> None:
    word = canary()
    a, home, record = await origin_and_stopped_holder(cluster, word)
    revocation_id, revocation = revocation_file(a, record, tmp_path)
    assert files_containing(home, word.encode()), "the holder must hold the canary to begin"
    # Every step on its own copy of the holder's home, the copies crashed side by side.
    await asyncio.gather(
        *(
            crash_and_restart(point, home, tmp_path, revocation, revocation_id, a.node_id, word)
            for point in ("records-deleted", *AFTER_THE_COMMIT)
        )
    )


async def crash_and_restart(
    point: str, home: Path, tmp_path: Path, revocation: Path, revocation_id: str,
    sender: str, word: str,
) -> None:  # fmt: skip
    crashed = snapshot(home, tmp_path / f"crashed-{point}")
    ran = await harness("--kill-after", point, "accept", str(crashed), str(revocation), sender)
    assert ran.code == KILLED, (point, ran)

    # What the crash left, looked at on a copy before anything opens the database.
    left = files_containing(crashed, word.encode())
    seen = snapshot(crashed, tmp_path / f"seen-{point}")
    assert not (left and receipts_for(seen, revocation_id)), f"{point}: receipt before purge"
    if point in BEFORE_THE_SCRUB:
        assert left, f"{point}: the kill must land while the old bytes are on the disk"

    # Restart: the purge is finished before anything else, and the archive is intact.
    assert (await rhizome(crashed, "verify")).code == 0, point
    if point == "records-deleted":  # nothing committed: the lesson is simply still held
        assert files_containing(crashed, word.encode()), point
    else:
        assert files_containing(crashed, word.encode()) == [], point

    # The origin sends it again (its outbox keeps it): a receipt, and no trace.
    again = await harness("accept", str(crashed), str(revocation), sender)
    assert again.code == 0, (point, again)
    assert receipts_for(snapshot(crashed, tmp_path / f"after-{point}"), revocation_id) == 1
    assert files_containing(crashed, word.encode()) == [], point


async def test_a_server_started_after_the_crash_finishes_the_purge_before_it_serves(
    cluster: Cluster, tmp_path: Path
) -> None:
    word = canary()
    a, home, record = await origin_and_stopped_holder(cluster, word)
    _, revocation = revocation_file(a, record, tmp_path)
    ran = await harness(
        "--kill-after", "purge-committed", "accept", str(home), str(revocation), a.node_id
    )
    assert ran.code == KILLED, ran
    assert files_containing(home, word.encode()), "the kill must leave the old bytes"
    port = load_config(home / CONFIG_FILE).port
    b = await serve(cluster, home, port_socket(port), background_sync=False)
    assert await cluster.healthy(b)
    assert files_containing(home, word.encode()) == []
    assert b.count("purge_pending") == 0


async def test_a_crash_in_the_origins_own_revoke_is_finished_at_the_next_start(
    cluster: Cluster, tmp_path: Path
) -> None:
    word = canary()
    a = await cluster.start("Hub A")
    record = a.add("Safe houses", f"The list: {word}.\n")
    home = a.home
    await cluster.stop(a)
    ran = await harness(
        "--kill-after", "purge-committed", "cli", "--home", str(home),
        "revoke", record.id_hex, "--reason", "consent-withdrawn",
    )  # fmt: skip
    assert ran.code == KILLED, ran
    assert "purged here" not in ran.stdout  # nothing reported done before it is durable
    assert files_containing(home, word.encode()), "the kill must leave the old bytes"
    assert (home / DATABASE_FILE).exists()
    assert (await rhizome(home, "verify")).code == 0
    assert files_containing(home, word.encode()) == []


async def test_a_purge_held_back_by_a_reader_gets_no_receipt_until_it_is_scrubbed(
    cluster: Cluster, tmp_path: Path
) -> None:
    word = canary()
    clock = ShiftedClock()
    a = await cluster.start("Hub A", clock=clock)
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    record = a.add("Safe houses", f"The list: {word}.\n")
    assert (await cluster.sync(b, a)).errors == []
    b.node.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    b.node.db.execute("PRAGMA busy_timeout = 50")  # the reader below would hold it 10 s
    revoke(a.node.local_node(), record.id_hex, admin_actor(a.node), "consent-withdrawn", None)

    with closing(sqlite3.connect(b.home / DATABASE_FILE, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM records").fetchone()  # holds the old bytes' pages
        report = await cluster.sync(a, b)
        assert any("purge_pending" in error for error in report.errors), report.errors
        assert not b.has(record), "purged from the archive at once"
        assert b.count("receipts") == 0, "but no receipt while the bytes are on the disk"
        assert statuses(a, record.id_hex) == {b.node_id: "pending"}
        assert a.count("outbox", "peer_id = ?", [b.node_id]) == 1
        reader.execute("COMMIT")

    clock.advance(RETRY_PAUSE)  # the origin sends an unconfirmed withdrawal again after a pause
    assert (await cluster.sync(a, b)).errors == []
    assert statuses(a, record.id_hex) == {b.node_id: "purged"}
    assert files_containing(b.home, word.encode()) == []
