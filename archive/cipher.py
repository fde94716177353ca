"""An encrypted database: SQLCipher (through ``sqlcipher3``) for a sealed node's rhizome.db.

Every page SQLite writes (tables, the FTS5 index, the WAL, the rollback journal) is encrypted
with AES-256 and authenticated (HMAC-SHA512) under a raw 256-bit key: the node derives it from
its home key (:func:`crypto.home_key.database_key`), so no passphrase stretch happens per
connection and every worker thread opens its own connection with the same key
(``archive.db.connect(path, schemas, key=...)``).

``sqlcipher3`` raises its own exception classes; a connection made here translates them into
the standard library's ``sqlite3`` ones (same class name, message and error code), so every
``except sqlite3.Error`` of the code base (and of sqlite-utils) behaves the same whether the
database is encrypted or not.

Copies of an encrypted database (a backup, the conversion of a plain one by ``rhizome seal``)
go through :func:`export_database`, SQLCipher's ``sqlcipher_export``: it reads every table of
the open database and writes it into a new file under the key given (``None``: plain text).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as _sqlcipher_typed

from archive.errors import DatabaseError

# Its stubs type a connection as sqlcipher3's own; the classes here make it speak sqlite3's
# (same exceptions, handed to sqlite-utils and to code written for sqlite3), so it is Any.
sqlcipher: Any = _sqlcipher_typed

KEY_SIZE = 32
# Decrypted pages kept per connection, in KiB (SQLite's default is 2,000): a page read again
# from the cache costs nothing, one read from the file costs an AES decryption and an HMAC
# check, so a sealed node keeps more of them (bench/bench_sealed.py measures the difference).
CACHE_KIB = 32_000
# SQLCipher's memory security (zero every freed allocation, lock pages in memory) stays off,
# as SQLCipher ships it since 4.5 (once on, it cannot be turned off in a process; it costs on
# every query). It guards the memory of a running process, and whoever reads that memory
# holds the unlocked home key anyway (docs/explanation/threat-model.md, "What sealing cannot
# promise"); what lies on disk is encrypted either way. tests/archive/test_cipher.py holds it.


class WrongDatabaseKey(DatabaseError):
    """The database does not open with this key (a wrong passphrase, a plain database opened
    as a sealed one, or a damaged file). Check the passphrase; nothing was changed."""


def as_sqlite3_error(error: BaseException) -> BaseException:
    """The ``sqlite3`` exception matching a ``sqlcipher3`` one (anything else as it is)."""
    if not isinstance(error, sqlcipher.Error):
        return error
    kind = getattr(sqlite3, type(error).__name__, sqlite3.DatabaseError)
    translated: BaseException = kind(*error.args)
    for name in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(error, name):
            setattr(translated, name, getattr(error, name))
    return translated


class _CipherCursor(sqlcipher.Cursor):  # type: ignore[misc]
    """A cursor whose errors (at execute and while fetching) are ``sqlite3`` errors."""

    def execute(self, *args: Any) -> Any:
        try:
            return super().execute(*args)
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def executemany(self, *args: Any) -> Any:
        try:
            return super().executemany(*args)
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def executescript(self, *args: Any) -> Any:
        try:
            return super().executescript(*args)
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def fetchmany(self, *args: Any) -> Any:
        try:
            return super().fetchmany(*args)
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def fetchall(self) -> Any:
        try:
            return super().fetchall()
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error


class CipherConnection(sqlcipher.Connection):  # type: ignore[misc]
    """A SQLCipher connection that speaks the ``sqlite3`` exceptions."""

    def cursor(self, factory: Any = _CipherCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: object = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: object, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, sql: str, /) -> Any:
        return self.cursor().executescript(sql)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error

    def rollback(self) -> None:
        try:
            super().rollback()
        except sqlcipher.Error as error:
            raise as_sqlite3_error(error) from error


def key_pragma(key: bytes) -> str:
    """The ``PRAGMA key`` statement for a raw key (SQLCipher then skips its own PBKDF2)."""
    if len(key) != KEY_SIZE:
        raise ValueError("a database key is 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def open_cipher_connection(
    path: Path | str, key: bytes | None, factory: type[CipherConnection] = CipherConnection
) -> Any:
    """A SQLCipher connection to ``path`` unlocked with ``key`` (``None``: a plain database,
    opened by SQLCipher's SQLite, for :func:`export_database`). Raises
    :class:`WrongDatabaseKey` when the key does not open it."""
    conn = sqlcipher.connect(
        str(path), isolation_level=None, check_same_thread=False, factory=factory
    )
    try:
        if key is not None:
            conn.execute(key_pragma(key))
        conn.execute("PRAGMA schema_version").fetchone()  # reads page 1: checks the key
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")  # sorts and temp indexes never hit the disk
    except sqlite3.DatabaseError as error:
        conn.close()
        if "not a database" in str(error):
            raise WrongDatabaseKey(
                f"{path}: the database does not open with this key (wrong passphrase, or "
                "not this home's database); nothing was changed"
            ) from error
        raise
    return conn


def export_database(conn: Any, target: Path, key: bytes | None) -> None:
    """Copy the whole database open on ``conn`` (a :class:`CipherConnection`) into the new
    file ``target``, encrypted with ``key`` (plain text when ``None``). ``target`` must not
    exist. The caller fsyncs and renames it into place."""
    if target.exists():
        raise DatabaseError(f"{target}: already exists; refusing to overwrite it")
    literal = "''" if key is None else f"\"x'{key.hex()}'\""
    conn.execute("ATTACH DATABASE ? AS export KEY " + literal, (str(target),))
    try:
        conn.execute("SELECT sqlcipher_export('export')").fetchall()
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA export.user_version = {int(version)}")
    finally:
        conn.execute("DETACH DATABASE export")
