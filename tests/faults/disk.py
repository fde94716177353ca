"""A disk that fills up, for the full-disk tests.

As root (CI runs as root) the test mounts a real, small tmpfs file system and fills it with
a file until the kernel answers ENOSPC: every write of SQLite and of our own code then meets
a genuinely full disk. Where mounting is impossible (not root, no CAP_SYS_ADMIN) the tests
fall back to an *injected* full disk: this module replaces, in the test process (and in the
subprocess harness with ``--disk-full``), the statement methods of the archive's connection
class so that every write fails with SQLite's own "database or disk is full" error. Each
test prints which one it used (``small disk: tmpfs`` or ``small disk: injected``) and
records it as a user property of the test; none is skipped. ``FAULTS_NO_MOUNT=1`` runs the
fallback on a machine that could mount, to keep it working.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from archive import db as archive_db

SIZE = "8m"
CHUNK = 64 * 1024
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT", "CREATE", "PRAGMA WAL_CHECKPOINT")


@dataclass
class SmallDisk:
    root: Path
    how: str  # "tmpfs" or "injected"
    filler: Path = field(init=False)
    full: bool = False

    def __post_init__(self) -> None:
        self.filler = self.root / "filler.bin"

    def fill(self) -> None:
        """Leave no byte free (tmpfs), or make every database write fail (injected)."""
        self.full = True
        if self.how == "injected":
            return
        with open(self.filler, "ab", buffering=0) as out:
            for size in (CHUNK, 4096, 512, 1):
                try:
                    while True:
                        out.write(b"\0" * size)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
        assert shutil.disk_usage(self.root).free < 4096

    def free(self) -> None:
        self.full = False
        if self.how == "tmpfs":
            self.filler.unlink()

    def harness_args(self) -> list[str]:
        """Arguments for tests.faults.harness that make its writes meet this disk."""
        return ["--disk-full"] if self.how == "injected" and self.full else []


def _mount(where: Path) -> bool:
    if os.geteuid() != 0 or os.environ.get("FAULTS_NO_MOUNT"):  # the latter: try the fallback
        return False
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


def inject_full_disk(disk: SmallDisk) -> None:
    """The fallback: every write statement of an archive connection to a database on the
    small disk fails as SQLite fails on a full disk (only while ``disk.full``)."""
    connection = archive_db._Connection
    execute, executemany = connection.execute, connection.executemany

    def on_small_disk(conn: sqlite3.Connection) -> bool:
        known = conn.__dict__.get("_on_small_disk")
        if known is None:
            main = execute(conn, "PRAGMA database_list").fetchone()[2]  # type: ignore[arg-type]
            known = conn.__dict__["_on_small_disk"] = Path(main).is_relative_to(disk.root)
        return bool(known)

    def refuse(conn: sqlite3.Connection, sql: str) -> None:
        if not (disk.full and on_small_disk(conn)):
            return
        if sql.lstrip().upper().startswith(WRITES):
            # SQLite's own error, through the archive's own mapping (the part of the path
            # this fallback cannot reach is the one line in _Connection that calls it).
            error = sqlite3.OperationalError("database or disk is full")
            if archive_db.is_storage_full(error):
                raise archive_db.storage_full(error) from error
            raise error

    def full_execute(self: sqlite3.Connection, sql: str, parameters: object = (), /) -> object:
        refuse(self, sql)
        return execute(self, sql, parameters)  # type: ignore[arg-type]

    def full_executemany(self: sqlite3.Connection, sql: str, rows: object, /) -> object:
        refuse(self, sql)
        return executemany(self, sql, rows)  # type: ignore[arg-type]

    connection.execute = full_execute  # type: ignore[method-assign,assignment]
    connection.executemany = full_executemany  # type: ignore[method-assign,assignment]


@pytest.fixture
def small_disk(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SmallDisk]:
    where = tmp_path / "small-disk"
    if _mount(where):
        disk = SmallDisk(where, "tmpfs")
    else:
        where.mkdir(exist_ok=True)
        disk = SmallDisk(where, "injected")
        monkeypatch.setattr(archive_db._Connection, "execute", archive_db._Connection.execute)
        monkeypatch.setattr(
            archive_db._Connection, "executemany", archive_db._Connection.executemany
        )
        inject_full_disk(disk)
    print(f"small disk: {disk.how}")
    request.node.user_properties.append(("small_disk", disk.how))
    try:
        yield disk
    finally:
        if disk.how == "tmpfs":
            subprocess.run(["umount", "-l", str(where)], check=False)
