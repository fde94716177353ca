"""kill -9 at seeded random points of ``lesson import``, of a sync and of a purge.

Each operation first runs once on a copy of the home to count its SQL statements; then, on
fresh copies, it is killed with SIGKILL just before a statement drawn at random (the seed is
printed: ``FAULTS_SEED=<seed>`` replays it). After each crash the node starts again and:

- the database opens and ``rhizome verify`` passes;
- nothing is half-stored: every record has its search-index entry and its log entry;
- running the operation again completes it;
- where a purge had begun (its tombstone committed), the canary is in no file of the home,
  and a receipt existed at the crash only if the purge was already durable.

The number of crashes is bounded (:data:`CRASHES` per operation, run side by side on their
own copies) so the suite stays within about a minute.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from tests.conftest import HomeFactory, write_lesson
from tests.faults.crash import (
    KILLED,
    harness,
    origin_and_stopped_holder,
    query,
    receipts_for,
    revocation_file,
    snapshot,
    statements_of,
)
from tests.integration.conftest import Cluster, files_containing
from tests.integration.revocation_helpers import canary, rhizome

CRASHES = 3
LESSONS = 40


def draws(rng: random.Random, statements: int) -> list[int]:
    """Where to crash: distinct statements of the run, drawn from the seed."""
    points = rng.sample(range(1, statements + 1), min(CRASHES, statements))
    return sorted(points)


def assert_whole(home: Path, where: str) -> None:
    """Nothing half-stored: each record has its index entry and the log entry that added it."""
    seen = snapshot(home, home.parent / f"{home.name}-whole")
    records, indexed = (
        int(query(seen, f"SELECT count(*) FROM {table}")[0][0])
        for table in ("records", "records_fts")
    )
    logged = int(
        query(
            seen,
            "SELECT count(DISTINCT subject) FROM events WHERE subject IN (SELECT id FROM records)"
            " AND kind IN ('record.added', 'record.received')",
        )[0][0]
    )
    assert records == indexed == logged, f"{where}: {records} records, {indexed}, {logged}"


async def crash_then_check(
    pristine: Path, copy: Path, kill_at: int, args: list[str], where: str
) -> None:
    snapshot(pristine, copy)
    ran = await harness("--kill-at", str(kill_at), "cli", "--home", str(copy), *args)
    assert ran.code == KILLED, f"{where}: not killed ({ran})"
    verified = await rhizome(copy, "verify")
    assert verified.code == 0, f"{where}: {verified}"
    assert_whole(copy, where)
    again = await rhizome(copy, *args)
    assert again.code == 0, f"{where}: running again: {again}"
    assert_whole(copy, where)


async def test_kill_during_lesson_import(
    make_home: HomeFactory, tmp_path: Path, rng: random.Random
) -> None:
    home = make_home()
    folder = tmp_path / "lessons"
    folder.mkdir()
    titles = {f"Drill {n}" for n in range(LESSONS)}
    for n, title in enumerate(sorted(titles)):
        write_lesson(folder, f"{n:03}.md", {"title": title, "kind": "checklist"}, f"Step {n}.\n")
    args = ["lesson", "import", str(folder)]
    counted = await harness("--count", "cli", "--home", str(snapshot(home, tmp_path / "n")), *args)
    assert counted.code == 0, counted
    points = draws(rng, statements_of(counted))
    copies = [tmp_path / f"crash-{n}" for n in range(len(points))]
    await asyncio.gather(
        *(
            crash_then_check(home, copy, k, args, f"import killed at statement {k}")
            for copy, k in zip(copies, points, strict=True)
        )
    )
    for copy in copies:
        seen = snapshot(copy, copy.parent / f"{copy.name}-titles")
        stored = {str(row[0]) for row in query(seen, "SELECT title FROM records")}
        assert stored == titles, "re-running the import must complete it"


async def test_kill_during_a_sync(cluster: Cluster, tmp_path: Path, rng: random.Random) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    await cluster.pair(a, b)
    a.add_many(LESSONS, padding=200)
    home = b.home
    await cluster.stop(b)
    args = ["sync"]
    counted = await harness("--count", "cli", "--home", str(snapshot(home, tmp_path / "n")), *args)
    assert counted.code == 0, counted
    points = draws(rng, statements_of(counted))
    copies = [tmp_path / f"crash-{n}" for n in range(len(points))]
    # One after the other: every copy is the same node to A, which keeps one sync at a time.
    for copy, k in zip(copies, points, strict=True):
        await crash_then_check(home, copy, k, args, f"sync killed at statement {k}")
        seen = snapshot(copy, copy.parent / f"{copy.name}-held")
        held = query(seen, "SELECT count(*) FROM records WHERE origin = ?", (a.node_id,))
        assert int(held[0][0]) == LESSONS, "re-running the sync must complete it"


async def crash_a_purge(
    home: Path, copy: Path, kill_at: int, revocation: Path, revocation_id: str, sender: str,
    word: str,
) -> None:  # fmt: skip
    where = f"purge killed at statement {kill_at}"
    snapshot(home, copy)
    ran = await harness("--kill-at", str(kill_at), "accept", str(copy), str(revocation), sender)
    assert ran.code == KILLED, f"{where}: not killed ({ran})"
    left = files_containing(copy, word.encode())
    seen = snapshot(copy, copy.parent / f"{copy.name}-seen")
    begun = int(query(seen, "SELECT count(*) FROM tombstones")[0][0]) > 0
    assert not (left and receipts_for(seen, revocation_id)), f"{where}: receipt before purge"
    assert (await rhizome(copy, "verify")).code == 0, where
    assert_whole(copy, where)
    if begun:
        assert files_containing(copy, word.encode()) == [], f"{where}: canary left"
    again = await harness("accept", str(copy), str(revocation), sender)
    assert again.code == 0, f"{where}: {again}"
    assert files_containing(copy, word.encode()) == [], f"{where}: canary left after redo"


async def test_kill_during_a_purge(cluster: Cluster, tmp_path: Path, rng: random.Random) -> None:
    word = canary()
    a, home, record = await origin_and_stopped_holder(cluster, word)
    revocation_id, revocation = revocation_file(a, record, tmp_path)
    count_copy = snapshot(home, tmp_path / "count")
    counted = await harness("--count", "accept", str(count_copy), str(revocation), a.node_id)
    assert counted.code == 0, counted
    points = draws(rng, statements_of(counted))
    await asyncio.gather(
        *(
            crash_a_purge(
                home, tmp_path / f"crash-{n}", k, revocation, revocation_id, a.node_id, word
            )
            for n, k in enumerate(points)
        )
    )
