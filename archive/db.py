"""Opening the node's SQLite database, and transactions.

The CLI and a running ``rhizome serve`` use the same file at the same time, so the database
runs in WAL mode with a busy timeout, and every write happens inside :func:`transaction`
(``BEGIN IMMEDIATE``: writers queue up instead of failing half-way). ``secure_delete`` is on
so that freed pages are zeroed: what we purge is gone from the file, not just unlinked.

A full disk is reported in one place: every statement runs through :class:`_Connection`,
which turns SQLite's "database or disk is full" into :class:`~archive.errors.StorageFull`,
so every caller (CLI, web, federation, background loops) sees the same clear error and the
transaction is rolled back whole.

A sealed node's database is encrypted with SQLCipher: pass its raw key to :func:`connect`
(``key=``); see :mod:`archive.cipher`. Every connection to it (the server's, each worker
thread's, the CLI's) needs that key; nothing else differs.
"""

from __future__ import annotations

import errno
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from archive.cipher import CipherConnection, WrongDatabaseKey, open_cipher_connection
from archive.errors import DatabaseError, StorageFull
from archive.migrations import Schema, migrate
from archive.schema import SCHEMA as ARCHIVE_SCHEMA

BUSY_TIMEOUT_MS = 10_000
_savepoints = itertools.count(1)
STORAGE_FULL_MESSAGE = (
    "the disk is full: nothing of this change was stored; free some space on the disk of "
    "the node home and try again"
)
OPEN_ON_FULL_DISK = (
    "the disk is full: the database cannot be opened (SQLite needs a little room next to it); "
    "free some space on the disk of the node home and try again"
)
# SQLite's ways of saying "no space left": a write that cannot grow a file, and a new
# shared-memory index (-shm) that cannot be extended when a database is opened.
FULL_DISK_CODES = (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR_SHMSIZE)


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error`` means the disk is full (SQLITE_FULL or SQLITE_IOERR_SHMSIZE from
    SQLite, ENOSPC or EDQUOT from a file write)."""
    if isinstance(error, StorageFull):
        return True
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) in FULL_DISK_CODES or (
            "database or disk is full" in str(error)
        )
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def storage_full(error: BaseException, message: str = STORAGE_FULL_MESSAGE) -> StorageFull:
    """The one error every layer shows for a full disk, chained to its cause."""
    full = StorageFull(message)
    full.__cause__ = error
    return full


def _full_disk_reported(run: Callable[[], sqlite3.Cursor]) -> sqlite3.Cursor:
    try:
        return run()
    except sqlite3.OperationalError as error:
        if is_storage_full(error):
            raise storage_full(error) from error
        raise


class _Connection(sqlite3.Connection):
    """A connection whose statements report a full disk as :class:`StorageFull`, and which
    knows the schemas it was opened with (:func:`archive.migrations.schemas_of`)."""

    schemas: tuple[Schema, ...] = ()

    def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
        run = super().execute
        return _full_disk_reported(lambda: run(sql, parameters))  # type: ignore[arg-type]

    def executemany(self, sql: str, parameters: Iterable[object], /) -> sqlite3.Cursor:
        run = super().executemany
        return _full_disk_reported(lambda: run(sql, parameters))  # type: ignore[arg-type]


class _CipherConnection(CipherConnection):
    """The same, on SQLCipher (a sealed node's database)."""

    schemas: tuple[Schema, ...] = ()

    def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
        run = super().execute
        return _full_disk_reported(lambda: run(sql, parameters))

    def executemany(self, sql: str, parameters: object, /) -> sqlite3.Cursor:
        run = super().executemany
        return _full_disk_reported(lambda: run(sql, parameters))


def connect(
    path: Path | str, schemas: Sequence[Schema] | None = None, *, key: bytes | None = None
) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at ``path``.

    ``schemas`` are the packages' parts of the database, in layer order (archive's alone when
    not given; ``node.database.open_database`` passes every package's). The connection keeps
    them: a purge runs their purge hooks. ``key`` (32 bytes) opens an encrypted database
    (:mod:`archive.cipher`); :class:`~archive.cipher.WrongDatabaseKey` if it does not.
    """
    if schemas is None:
        schemas = (ARCHIVE_SCHEMA,)
    try:
        conn = _open_connection(path, key)
        conn.schemas = tuple(schemas)
        db = sqlite_utils.Database(conn)
        _configure(conn)
        migrate(db, schemas)
    except WrongDatabaseKey:
        raise
    except StorageFull as error:
        raise storage_full(error, f"{path}: {OPEN_ON_FULL_DISK}") from error
    except sqlite3.DatabaseError as error:
        if is_storage_full(error):
            raise storage_full(error, f"{path}: {OPEN_ON_FULL_DISK}") from error
        if "not a database" in str(error):
            raise DatabaseError(
                f"{path}: not a readable database: it is encrypted (a sealed home, opened "
                "without its key) or damaged"
            ) from error
        raise DatabaseError(f"{path}: cannot open the database ({error})") from error
    return db


def _open_connection(path: Path | str, key: bytes | None) -> _Connection | _CipherConnection:
    if key is None:
        return sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, factory=_Connection
        )
    conn: _CipherConnection = open_cipher_connection(path, key, _CipherConnection)
    return conn


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
            # A full disk makes SQLite roll back the whole transaction by itself: then
            # there is no savepoint left to return to, and the outer levels see the error.
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    _begin(conn)
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except StorageFull:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


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
