"""Opening the node's SQLite database, and transactions.

The CLI and a running ``rhizome serve`` use the same file at the same time, so the database
runs in WAL mode with a busy timeout, and every write happens inside :func:`transaction`
(``BEGIN IMMEDIATE``: writers queue up instead of failing half-way). ``secure_delete`` is on
so that freed pages are zeroed: what we purge is gone from the file, not just unlinked.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from archive.errors import DatabaseError
from archive.migrations import migrate

BUSY_TIMEOUT_MS = 10_000
_savepoints = itertools.count(1)


def connect(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at ``path``."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        _configure(conn)
        migrate(db)
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"{path}: cannot open the database ({error})") from error
    return db


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One atomic unit of work: all of it is stored, or none of it.

    Nested uses become savepoints, so a batch can roll back one bad item and keep the rest.
    """
    conn = db.conn
    if conn.in_transaction:
        name = f"sp_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    _begin(conn)
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _begin(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise
        raise DatabaseError(
            f"the database stayed busy for {BUSY_TIMEOUT_MS // 1000} s (another Rhizome process "
            "is writing a lot); try again in a moment"
        ) from error
