"""Running :mod:`tests.faults.harness` as a real subprocess, and looking at what a crash
left on the disk before anything opens the database again."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from archive.signed_record import SignedRecord
from federation.propagation import revoke
from node.home import DATABASE_FILE
from tests.integration.conftest import Cluster, RunningNode
from tests.integration.revocation_helpers import Ran, admin_actor

REPOSITORY = Path(__file__).resolve().parents[2]
KILLED = -signal.SIGKILL
HARNESS_DEADLINE = 60.0


def clean_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    env["COLUMNS"] = "80"
    env["PYTHONPATH"] = str(REPOSITORY)
    return env


async def harness(*args: str) -> Ran:
    """``python -m tests.faults.harness ARGS``; its exit code is -9 when it was killed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.faults.harness", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=clean_environment(), cwd=REPOSITORY,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), HARNESS_DEADLINE)
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())


def statements_of(ran: Ran) -> int:
    """The statement count a ``--count`` run printed."""
    found = re.search(r"statements: (\d+)", ran.stderr)
    assert found, ran.stderr
    return int(found.group(1))


def snapshot(home: Path, destination: Path) -> Path:
    """A byte-for-byte copy of ``home`` as the crash left it (database, -wal, -shm, all)."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(home, destination)
    return destination


def query(home: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows from the database of ``home`` with plain sqlite3 (use it on a snapshot: opening
    a database replays and may checkpoint its WAL)."""
    with closing(sqlite3.connect(home / DATABASE_FILE)) as conn:
        return conn.execute(sql, params).fetchall()


def receipts_for(home: Path, revocation_id: str) -> int:
    return int(
        query(home, "SELECT count(*) FROM receipts WHERE revocation_id = ?", (revocation_id,))[0][0]
    )


# ---- an origin and a holder of its canary lesson, the holder stopped ----------------------


async def origin_and_stopped_holder(
    cluster: Cluster, word: str
) -> tuple[RunningNode, Path, SignedRecord]:
    """Hub A (serving) wrote a lesson carrying ``word``; Hub B got it by a real sync and was
    stopped (its database closed, so the canary sits in B's main database file)."""
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    record = a.add("Safe houses", f"The list: {word}.\n")
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(record)
    await cluster.stop(b)
    return a, b.home, record


def revocation_file(a: RunningNode, record: SignedRecord, folder: Path) -> tuple[str, Path]:
    """A revokes the record (purging its own copy); the signed revocation, in a file."""
    actor = admin_actor(a.node)
    revocation = revoke(a.node.local_node(), record.id_hex, actor, "consent-withdrawn", None)
    path = folder / "revocation.bin"
    path.write_bytes(revocation.envelope)
    return revocation.revocation_id, path
