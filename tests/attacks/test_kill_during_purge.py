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
- the origin asking again gets a receipt, and the canary stays gone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

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
from tests.integration.revocation_helpers import canary, port_socket, rhizome, serve

# Steps after which the old bytes are still on the disk: the window the attack aims at.
BEFORE_THE_SCRUB = ("purge-committed", "index-merged")
AFTER_THE_COMMIT = (*BEFORE_THE_SCRUB, "checkpointed", "marker-cleared", "receipt-stored")


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
