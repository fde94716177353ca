"""Attack: fill the node's disk.

The attacker fills the disk that holds a node home (a flood of records, logs, a big upload
by another user of the machine) and waits for the node to stumble: before the fix
``rhizome lesson add`` printed a traceback, and a withdrawal delivered while the holder's
disk was full was lost for good.

What must hold, on a real small file system (a tmpfs the test mounts; an injected
"database or disk is full" only where mounting is impossible, and the test says which):

- every write path fails with one clear line: the CLI with one ``Error:`` line and exit 1,
  the JSON API with a 507 ``storage_full`` in the one error shape (and ``Retry-After``), a web
  page with an HTML error page, a federation route with a 507 that tells the peer to retry
  later, with no strike against it;
- nothing is lost or half-stored: the archive verifies, nothing of the refused change is
  there, the origin's outbox keeps the withdrawal, and once there is space again the same
  command, request or sync succeeds;
- the background loops log one line (no traceback), keep running and retry later.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from archive.signed_record import SignedRecord
from crypto.signing import SigningIdentity
from federation.propagation import revoke
from node.home import DATABASE_FILE
from node.node import Node
from node.web.app import create_app
from node.web.keys import SYNC
from tests.conftest import write_lesson
from tests.faults.disk import SmallDisk, cli, new_home, small_disk
from tests.integration.conftest import Cluster, RunningNode, bound_socket
from tests.integration.revocation_helpers import (
    admin_actor,
    dead_loops,
    eventually,
    rhizome,
    serve,
    statuses,
)
from tests.web.conftest import (
    LESSON,
    Client,
    ClientFactory,
    assert_error,
    assert_healthy,
    basic,
    members,
    page,
    post,
    signed_in,
)
from tests.web.pages.test_lesson_form import FORM

__all__ = ["members", "small_disk"]  # fixtures used by name
TABLES = ("records", "records_fts", "events", "tombstones", "revocations", "outbox", "strikes")


@pytest.fixture
def home(small_disk: SmallDisk, identity_a: SigningIdentity) -> Path:
    """The node home of the web fixtures (``node``, ``members``), on the small disk."""
    return new_home(small_disk.root / "nairobi-hub", "Nairobi Hub", identity=identity_a)


@pytest.fixture
async def client(aiohttp_client: ClientFactory, members: Node) -> Client:
    return await aiohttp_client(create_app(members, background_sync=False))


def rows(home: Path) -> dict[str, int]:
    """Row counts, read with plain sqlite3 (once there is space: opening writes -shm)."""
    with closing(sqlite3.connect(home / DATABASE_FILE)) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}


# ---- the command line ---------------------------------------------------------------------


async def test_init_lesson_add_and_import_on_a_full_disk_are_one_error_line_and_store_nothing(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    home = new_home(small_disk.root / "hub", "Nairobi Hub")
    lesson = write_lesson(tmp_path, "lesson.md")
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(30):
        write_lesson(folder, f"{n:02}.md", {"title": f"Drill {n}", "kind": "checklist"})
    before = rows(home)
    # As while `rhizome serve` runs: the database stays open, its -shm index in place.
    serving = sqlite3.connect(home / DATABASE_FILE)
    serving.execute("SELECT count(*) FROM records").fetchone()

    small_disk.fill()
    (await cli(small_disk, home, "lesson", "add", str(lesson))).one_error_line("disk is full")
    (await cli(small_disk, home, "lesson", "import", str(folder))).one_error_line("disk is full")
    add_member = ["member", "add", "zed", "--role", "author"]
    (await cli(small_disk, home, *add_member)).one_error_line("disk is full")
    other = small_disk.root / "second-hub"
    init = ["init", "--name", "Second Hub", "--region", "Andes", "--no-passphrase"]
    (await cli(small_disk, other, *init)).one_error_line("disk is full")
    small_disk.free()
    serving.close()

    assert rows(home) == before, "nothing of the refused commands may be stored"
    assert not other.exists(), "a half-made home would block the next init"
    assert (await rhizome(other, *init)).code == 0
    assert (await rhizome(home, *add_member)).code == 0, "no half-written key left behind"
    assert (await rhizome(home, "verify")).code == 0
    assert (await rhizome(home, "lesson", "add", str(lesson))).code == 0
    assert (await rhizome(home, "lesson", "import", str(folder))).code == 0
    after = rows(home)
    assert after["records"] == after["records_fts"] == before["records"] + 31
    assert after["events"] == before["events"] + 32  # 31 lessons, 1 member


# ---- the JSON API and the web pages -------------------------------------------------------


async def test_the_json_api_answers_507_and_a_page_an_error_page_and_nothing_is_stored(
    small_disk: SmallDisk, client: Client, members: Node
) -> None:
    await signed_in(client, "ana")
    members.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no slack left in the WAL file
    before = rows(members.paths.root)

    small_disk.fill()
    response = await client.post("/api/v1/lessons", json=LESSON, headers=basic("ana"))
    message = await assert_error(response, 507, "storage_full")
    assert "disk is full" in message
    assert response.headers["Retry-After"].isdigit()
    answer = await post(client, "/lessons/new", FORM, from_page="/lessons/new")
    assert answer.status == 507 and answer.content_type == "text/html"
    assert "disk is full" in await answer.text()
    await assert_healthy(client)  # still serving
    await page(client, "/")  # and reading
    small_disk.free()

    assert rows(members.paths.root) == before
    response = await client.post("/api/v1/lessons", json=LESSON, headers=basic("ana"))
    assert response.status == 201, await response.text()


# ---- federation and the background loops --------------------------------------------------


async def full_holder(
    cluster: Cluster, disk: SmallDisk, background_sync: bool = False
) -> tuple[RunningNode, RunningNode, SignedRecord]:
    """Hub A on the ordinary disk, Hub B with its home on the small disk, paired, B holding
    one lesson of A's."""
    a = await cluster.start("Hub A")
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    home = new_home(disk.root / "hub-b", "Hub B", port=port)
    b = await serve(cluster, home, sock, background_sync=background_sync)
    await cluster.pair(a, b)
    held = a.add("Held by B", "Before the disk filled.\n")
    assert (await cluster.sync(b, a)).errors == []
    assert b.has(held)
    b.node.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return a, b, held


async def test_a_peer_is_told_to_retry_later_and_the_withdrawal_waits_in_its_outbox(
    small_disk: SmallDisk, cluster: Cluster
) -> None:
    a, b, held = await full_holder(cluster, small_disk)
    strikes_before = a.count("strikes"), b.count("strikes")
    fresh = a.add("Written while B was full", "After.\n")
    revoke(a.node.local_node(), held.id_hex, admin_actor(a.node), "consent-withdrawn", None)
    assert a.count("outbox", "peer_id = ?", [b.node_id]) == 1

    small_disk.fill()
    report = await cluster.sync(a, b)  # A pushes the revocation and its new lesson
    assert any("507" in error and "storage_full" in error for error in report.errors), report
    assert a.count("outbox", "peer_id = ?", [b.node_id]) == 1, "the withdrawal must not be lost"
    assert statuses(a, held.id_hex)[b.node_id] == "pending"
    assert await cluster.healthy(b)
    small_disk.free()

    assert (a.count("strikes"), b.count("strikes")) == strikes_before, "no strike"
    assert (await cluster.sync(a, b)).errors == []
    assert not b.has(held) and b.has(fresh)
    assert a.count("outbox", "peer_id = ?", [b.node_id]) == 0
    assert statuses(a, held.id_hex)[b.node_id] == "purged"


async def test_background_loops_log_one_line_keep_running_and_retry(
    small_disk: SmallDisk, cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, _ = await full_holder(cluster, small_disk, background_sync=True)
    fresh = a.add("Arrives once there is space", "Later.\n")
    caplog.set_level(logging.INFO, logger="rhizome")

    small_disk.fill()
    b.app[SYNC].on_news(a.node_id)  # what a peer's /notify does: pull from A now
    await eventually(
        lambda: [r for r in caplog.records if "disk is full" in r.getMessage()],
        "a log line saying the disk is full", 10.0,
    )  # fmt: skip
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
    assert dead_loops(b) == []
    assert not b.has(fresh)
    small_disk.free()

    b.app[SYNC].on_news(a.node_id)
    await eventually(lambda: b.has(fresh), "the lesson arrives once there is space", 10.0)
    assert dead_loops(b) == []
