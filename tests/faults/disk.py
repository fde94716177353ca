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
from node.home import create_home
from tests.faults.crash import harness
from tests.integration.revocation_helpers import Ran, rhizome

SIZE = "8m"
CHUNK = 64 * 1024
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT", "CREATE", "PRAGMA WAL_CHECKPOINT")


@dataclass
class SmallDisk:
    root: Path
    how: str  # "tmpfs" or "injected"
    filler: Path = field(init=False)
    full: bool = False
    writes_left: int = 0  # injected: write statements that still succeed once "full"

    def __post_init__(self) -> None:
        self.filler = self.root / "filler.bin"

    def fill(self, leave: int = 0) -> None:
        """Leave no byte free (tmpfs), or make every database write fail (injected); with
        ``leave``, about that many bytes stay free (injected: one write per 4 KiB page)."""
        self.full = True
        self.writes_left = leave // 4096
        if self.how == "injected":
            return
        with open(self.filler, "ab", buffering=0) as out:
            for size in (CHUNK, 4096, 512, 1):
                try:
                    while True:
                        out.write(b"\0" * size)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
            if leave:
                out.truncate(max(0, self.filler.stat().st_size - leave))
        assert shutil.disk_usage(self.root).free < 4096 + leave

    def free(self) -> None:
        self.full = False
        if self.how == "tmpfs":
            self.filler.unlink()

    def harness_args(self) -> list[str]:
        """Arguments for tests.faults.harness that make its writes meet this disk."""
        if self.how != "injected" or not self.full:
            return []
        return ["--disk-full-after", str(self.writes_left)]


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
        if not sql.lstrip().upper().startswith(WRITES):
            return
        disk.writes_left -= 1
        if disk.writes_left < 0:
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


def new_home(path: Path, name: str, port: int = 8470, **options: object) -> Path:
    """A node home at ``path`` (on the small disk, say)."""
    create_home(
        path, name=name, region="East Africa", language="en", url=None, host="127.0.0.1",
        port=port, passphrase=None, **options,  # type: ignore[arg-type]
    )  # fmt: skip
    return path


async def cli(disk: SmallDisk, home: Path, *args: str) -> Ran:
    """The real ``rhizome`` in its own process, meeting the small disk."""
    if disk.how == "tmpfs":
        return await rhizome(home, *args)
    return await harness(*disk.harness_args(), "cli", "--home", str(home), *args)
