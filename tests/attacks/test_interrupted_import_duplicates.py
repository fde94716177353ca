"""Interrupted import duplicates: an import killed or stopped half-way, then run again.

The attacker here is a crash (or an operator's Ctrl-C, or a second run by someone who does
not know the first one half-worked). Before the fix each run signed every file again under
a new id: three runs of 6,000 files left 18,000 records, and a later withdrawal covered one
copy of each lesson while the others stayed, searchable and shareable.

What must hold, with a real ``rhizome lesson import`` process: after kill -9 half-way and
two more runs, every lesson is stored exactly once (the re-runs say "already here" for what
the first stored, and store the rest); Ctrl-C stops after the current file, keeps what was
stored, prints the summary and exits 130, and the next run resumes; a revocation then leaves
no copy of the lesson, and importing its file again is refused.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import HomeFactory, write_lesson

RHIZOME = Path(sys.executable).parent / "rhizome"
LESSONS = 4_500  # nine batches of 500: a kill soon after the first commit lands before the end,
# even when the import outruns the test polling for that commit (1,500 could finish first)
DEADLINE = 120.0


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}


def command(home: Path, *args: str) -> list[str]:
    return [str(RHIZOME), "--home", str(home), *args]


def rhizome(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(home, *args), capture_output=True, text=True, env=environment(),
        timeout=DEADLINE, check=False,
    )  # fmt: skip


def records(home: Path, where: str = "", *params: str) -> int:
    uri = f"file:{home / 'rhizome.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as conn:
        sql = "SELECT count(*) FROM records" + (f" WHERE {where}" if where else "")
        return int(conn.execute(sql, params).fetchone()[0])


def titles_stored_once(home: Path) -> bool:
    uri = f"file:{home / 'rhizome.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as conn:
        rows = conn.execute("SELECT title, count(*) FROM records GROUP BY title").fetchall()
    return len(rows) == LESSONS and all(count == 1 for _, count in rows)


def started_import(home: Path, folder: Path) -> subprocess.Popen[str]:
    """An import, returned once its first batch is committed (still running)."""
    process = subprocess.Popen(
        command(home, "lesson", "import", str(folder)), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=environment(),
    )  # fmt: skip
    give_up = time.monotonic() + DEADLINE
    while records(home) == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < give_up, "the import stored nothing in time"
        time.sleep(0.01)
    return process


def summary(output: str) -> dict[str, int]:
    found = re.search(
        r"Stored ([\d,]+), already here ([\d,]+), updated ([\d,]+), changed ([\d,]+), "
        r"refused ([\d,]+)\.",
        output,
    )
    assert found, output
    names = ("stored", "already here", "updated", "changed", "refused")
    values = (int(value.replace(",", "")) for value in found.groups())
    return dict(zip(names, values, strict=True))


@pytest.fixture
def home(make_home: HomeFactory) -> Path:
    return make_home()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    folder.mkdir()
    for n in range(LESSONS):
        front = {"title": f"Drill {n:04}", "kind": "checklist"}
        write_lesson(folder, f"{n:04}.md", front, f"Step {n}.\n")
    return folder


def test_an_import_killed_half_way_then_run_twice_stores_each_lesson_once(
    home: Path, folder: Path
) -> None:
    process = started_import(home, folder)
    process.kill()
    process.communicate(timeout=DEADLINE)
    kept = records(home)
    assert 0 < kept < LESSONS, kept

    resumed = rhizome(home, "lesson", "import", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert summary(resumed.stdout) == {
        "stored": LESSONS - kept, "already here": kept, "updated": 0, "changed": 0, "refused": 0,
    }  # fmt: skip
    again = rhizome(home, "lesson", "import", str(folder))
    assert again.returncode == 0, again.stderr
    assert summary(again.stdout)["already here"] == LESSONS
    assert summary(again.stdout)["stored"] == 0
    assert records(home) == LESSONS
    assert titles_stored_once(home)

    # The one copy is the only copy: withdrawing it leaves none, and its file stays out.
    added = rhizome(home, "lesson", "add", str(folder / "0007.md"))
    assert added.returncode == 0, added.stderr
    assert "Already here" in added.stdout
    record_id = added.stdout.split()[-1]
    revoked = rhizome(home, "revoke", record_id, "--reason", "consent-withdrawn")
    assert revoked.returncode == 0, revoked.stderr
    assert records(home, "title = ?", "Drill 0007") == 0
    assert records(home) == LESSONS - 1
    after = rhizome(home, "lesson", "import", str(folder))
    assert summary(after.stdout) == {
        "stored": 0, "already here": LESSONS - 1, "updated": 0, "changed": 0, "refused": 1,
    }  # fmt: skip
    assert "0007.md: this exact lesson was withdrawn" in " ".join(after.stderr.split())
    assert records(home, "title = ?", "Drill 0007") == 0


def test_ctrl_c_keeps_what_was_stored_says_so_and_the_next_run_resumes(
    home: Path, folder: Path
) -> None:
    process = started_import(home, folder)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=DEADLINE)
    assert process.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "Aborted!" not in stderr + stdout
    kept = records(home)
    assert 0 < kept < LESSONS, kept
    assert f"Interrupted after {kept:,} of {LESSONS:,} files" in stdout
    assert "Run the same import again to resume." in stdout
    assert summary(stdout)["stored"] == kept  # the summary counts exactly what was committed

    resumed = rhizome(home, "lesson", "import", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    assert summary(resumed.stdout)["stored"] == LESSONS - kept
    assert summary(resumed.stdout)["already here"] == kept
    assert titles_stored_once(home)
