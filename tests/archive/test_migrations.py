"""Schema migrations and the database settings every connection gets."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from archive.db import BUSY_TIMEOUT_MS, connect
from archive.errors import DatabaseError
from archive.migrations import MIGRATIONS, schema_version


def schema(path: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()


def test_a_fresh_database_has_the_latest_schema(tmp_path: Path) -> None:
    db = connect(tmp_path / "rhizome.db")
    assert schema_version(db) == len(MIGRATIONS) >= 1
    applied = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert applied == [
        (number, migration.__name__) for number, migration in enumerate(MIGRATIONS, start=1)
    ]
    assert {"records", "records_fts", "events", "schema_migrations"} <= set(db.table_names())
    db.conn.close()


def test_connecting_twice_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    connect(path).conn.close()
    before = schema(path)
    db = connect(path)
    assert schema(path) == before
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    db.conn.close()


def test_two_open_connections_share_one_schema(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    first, second = connect(path), connect(path)
    assert schema_version(first) == schema_version(second) == len(MIGRATIONS)
    first.conn.close()
    second.conn.close()


def test_a_database_from_a_newer_rhizome_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    connect(path).conn.close()
    newer = len(MIGRATIONS) + 1
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'm_future', 0)",
            [newer],
        )
        conn.commit()
    before = schema(path)
    with pytest.raises(DatabaseError, match="upgrade") as error:
        connect(path)
    assert str(newer) in str(error.value)
    assert schema(path) == before


def test_a_file_that_is_not_a_database_is_a_database_error(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    path.write_bytes(b"this is not an SQLite database, just some text\n" * 100)
    with pytest.raises(DatabaseError) as error:
        connect(path)
    assert str(path) in str(error.value)


def test_wal_mode_and_secure_delete_are_on(tmp_path: Path) -> None:
    db = connect(tmp_path / "rhizome.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    db.conn.close()


def test_wal_mode_is_stored_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    connect(path).conn.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_full_text_index_folds_diacritics(tmp_path: Path) -> None:
    db = connect(tmp_path / "rhizome.db")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'records_fts'").fetchone()[0]
    assert "remove_diacritics 2" in sql
    db.conn.close()
