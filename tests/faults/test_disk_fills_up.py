"""The disk fills up in the middle of the work: a ``lesson import`` and a sync.

The node's home sits on a small file system (a tmpfs the test mounts; an injected full disk
where it cannot, and the test prints which) with a seeded random amount of space left, so
the disk runs out at a different point each run (``FAULTS_SEED`` replays one). Whatever the
point: the command either completes or ends with a clear "disk is full" and no traceback;
once there is space again the archive verifies, nothing is half-stored, and running the
command again completes the work.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import write_lesson
from tests.faults.crash import query, snapshot
from tests.faults.disk import SmallDisk, cli, new_home
from tests.faults.test_random_kills import assert_whole
from tests.integration.conftest import Cluster, free_port
from tests.integration.revocation_helpers import Ran, rhizome

LESSONS = 60
MOST_LEFT = 160 * 1024  # bytes left free at most: less than the work needs


def ended_cleanly(ran: Ran, where: str) -> None:
    assert "Traceback" not in ran.stdout + ran.stderr, f"{where}: {ran}"
    if ran.code != 0:
        assert "disk is full" in ran.stdout + ran.stderr, f"{where}: {ran}"


def titles(home: Path) -> set[str]:
    seen = snapshot(home, home.parent / f"{home.name}-titles")
    return {str(row[0]) for row in query(seen, "SELECT title FROM records")}


async def test_the_disk_fills_up_during_an_import(
    small_disk: SmallDisk, tmp_path: Path, rng: random.Random
) -> None:
    home = new_home(small_disk.root / "hub", "Nairobi Hub")
    folder = tmp_path / "lessons"
    folder.mkdir()
    filler = "Walk the route again and note each exit. " * 25
    expected = {f"Route check {n}" for n in range(LESSONS)}
    for n, title in enumerate(sorted(expected)):
        write_lesson(folder, f"{n:03}.md", {"title": title, "kind": "checklist"}, filler)
    leave = rng.randrange(0, MOST_LEFT)
    print(f"left free: {leave} bytes")

    small_disk.fill(leave)
    ran = await cli(small_disk, home, "lesson", "import", str(folder))
    small_disk.free()
    ended_cleanly(ran, f"import with {leave} bytes free")
    print(f"import: exit {ran.code}")

    assert (await rhizome(home, "verify")).code == 0
    assert_whole(home, "after the full disk")
    assert (await rhizome(home, "lesson", "import", str(folder))).code == 0
    assert titles(home) == expected


async def test_the_disk_fills_up_during_a_sync(
    small_disk: SmallDisk, cluster: Cluster, rng: random.Random
) -> None:
    a = await cluster.start("Hub A")
    # B runs as CLI processes only (its port is just a name in its config), paired through
    # the real path: A's invite, redeemed by B's `peer add`.
    home = new_home(small_disk.root / "hub-b", "Hub B", port=free_port())
    paired = await rhizome(home, "peer", "add", cluster.invite(a))
    assert paired.code == 0, paired
    records = a.add_many(LESSONS, padding=1200)
    leave = rng.randrange(0, MOST_LEFT)
    print(f"left free: {leave} bytes")

    small_disk.fill(leave)
    ran = await cli(small_disk, home, "sync")
    small_disk.free()
    ended_cleanly(ran, f"sync with {leave} bytes free")
    print(f"sync: exit {ran.code}")

    assert (await rhizome(home, "verify")).code == 0
    assert_whole(home, "after the full disk")
    assert (await rhizome(home, "sync")).code == 0
    assert titles(home) == {record.lesson.title for record in records}
