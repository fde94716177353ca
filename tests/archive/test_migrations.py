"""Schema migrations per package, the upgrade of homes made by the old single list, and the
database settings every connection gets."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from archive.db import BUSY_TIMEOUT_MS, connect, transaction
from archive.errors import DatabaseError
from archive.migrations import (
    LEGACY_VERSIONS,
    SPLIT_MARKER,
    latest_version,
    legacy_version,
    schema_version,
)
from archive.purge import delete_record
from archive.schema import SCHEMA as ARCHIVE
from node.database import SCHEMAS, open_database, table_owners

LEGACY_SQL = Path(__file__).with_name("legacy_schema_v12.sql")
# Tables SQLite makes itself (the full-text index's shadow tables) and the bookkeeping.
NOT_A_PACKAGE_TABLE = re.compile(
    r"^(records_fts_.*|sqlite_.*|schema_migrations|_sqlite_migrations)$"
)


def schema(path: Path) -> list[tuple[str, str]]:
    """Every object of the database but the bookkeeping, its SQL with whitespace folded."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT IN ('schema_migrations', '_sqlite_migrations') "
            "AND name NOT LIKE 'sqlite_autoindex%' AND tbl_name != '_sqlite_migrations' "
            "ORDER BY name"
        ).fetchall()
    return [(name, " ".join(sql.split())) for name, sql in rows]


def legacy_versions() -> dict[int, tuple[str, list[str]]]:
    """Version -> (name, statements) of the old positional list, as frozen in the test data."""
    versions: dict[int, tuple[str, list[str]]] = {}
    for block in LEGACY_SQL.read_text(encoding="utf-8").split("\n-- version ")[1:]:
        header, _, body = block.partition("\n")
        number, name = header.split()
        statements = [s.strip() for s in body.split(";;") if s.strip()]
        versions[int(number)] = (name, statements)
    return versions


def make_legacy_home(path: Path, upto: int = LEGACY_VERSIONS) -> None:
    """A database as the code before the per-package split made it, at version ``upto``."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "CREATE TABLE schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        for version, (name, statements) in sorted(legacy_versions().items()):
            if version > upto:
                break
            for statement in statements:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 1700000000)", [version, name])


def insert_peer_record(path: Path, record_id: str, peer: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(
            "INSERT INTO records (id, envelope, kind, title, summary, language, region, tags, "
            "sensitivity, scope, consent, origin, author, created, received_from, stored_at) "
            "VALUES (?, x'00112233', 'lesson', 't', 's', 'en', 'r', '[]', 'public', 'open', "
            "'{}', ?, 'a', 1, ?, 1)",
            [record_id, peer, peer],
        )


def test_a_fresh_database_has_every_packages_schema(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    assert schema_version(db) == latest_version(db) == sum(len(s.names()) for s in SCHEMAS)
    applied = db.execute("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id")
    assert applied.fetchall() == [(s.name, name) for s in SCHEMAS for name in s.names()]
    tables = {name for name in db.table_names() if not NOT_A_PACKAGE_TABLE.match(name)}
    assert tables == set(table_owners())
    db.conn.close()


def test_every_legacy_version_maps_to_migrations_and_tables_have_one_owner() -> None:
    legacy = {legacy_version(name) for s in SCHEMAS for name in s.names()}
    assert set(range(1, LEGACY_VERSIONS + 1)) <= legacy
    owners = [table for s in SCHEMAS for table in s.tables]
    assert len(owners) == len(set(owners))


@pytest.mark.parametrize("upto", [LEGACY_VERSIONS, 1, 3, 5, 9, 11])
def test_a_home_made_by_the_old_list_upgrades_to_the_fresh_schema(
    tmp_path: Path, upto: int
) -> None:
    fresh = tmp_path / "fresh.db"
    open_database(fresh).conn.close()
    old = tmp_path / "old.db"
    make_legacy_home(old, upto)
    insert_peer_record(old, "aa" * 32, "peer-one")
    db = open_database(old)
    assert schema(old) == schema(fresh)
    assert schema_version(db) == latest_version(db)
    assert db.execute("SELECT id FROM records").fetchall() == [("aa" * 32,)]
    versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations")]
    assert versions == [*range(1, upto + 1), SPLIT_MARKER]
    # The quota triggers work on the upgraded home (the record before m012 is counted too).
    with transaction(db):
        db.execute("UPDATE records SET received_from = 'peer-two'")
    holdings = db.execute("SELECT peer_id, records FROM peer_holdings ORDER BY peer_id")
    assert holdings.fetchall() == [("peer-one", 0), ("peer-two", 1)]
    db.conn.close()


def test_the_home_made_by_the_old_list_keeps_its_data_and_opens_again(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    make_legacy_home(path)
    insert_peer_record(path, "bb" * 32, "peer-one")
    key = sqlite3.connect(path).execute("SELECT key FROM lesson_source_key").fetchall()
    open_database(path).conn.close()
    before = schema(path)
    db = open_database(path)
    assert schema(path) == before
    assert db.execute("SELECT key FROM lesson_source_key").fetchall() == key
    assert db.execute("SELECT records FROM peer_holdings").fetchall() == [(1,)]
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == latest_version(db)
    db.conn.close()


def test_an_old_home_opened_first_for_the_archive_alone_still_upgrades_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rhizome.db"
    make_legacy_home(path)
    connect(path).conn.close()  # archive's schema only: governance's sets are not adopted yet
    db = open_database(path)
    assert schema_version(db) == latest_version(db)
    db.conn.close()


def test_an_older_rhizome_refuses_a_database_of_the_per_package_schema(tmp_path: Path) -> None:
    """The old code compared ``max(version)`` of schema_migrations with its 12 and refused."""
    path = tmp_path / "rhizome.db"
    open_database(path).conn.close()
    with closing(sqlite3.connect(path)) as conn:
        newest = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    assert newest > LEGACY_VERSIONS


def test_connecting_twice_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    open_database(path).conn.close()
    before = schema(path)
    db = open_database(path)
    assert schema(path) == before
    assert schema_version(db) == latest_version(db)
    assert db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == latest_version(db)
    db.conn.close()


def test_two_open_connections_share_one_schema(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    first, second = open_database(path), open_database(path)
    assert schema_version(first) == schema_version(second) == latest_version(first)
    first.conn.close()
    second.conn.close()


@pytest.mark.parametrize(
    ("migration_set", "name", "said"),
    [
        ("archive", "m099_from_the_future", "migration m099_from_the_future of archive"),
        ("federation", "m013_later", "migration m013_later of federation"),
        ("newer_package", "m001_tables", "schema newer_package"),
    ],
)
def test_a_database_from_a_newer_rhizome_is_refused(
    tmp_path: Path, migration_set: str, name: str, said: str
) -> None:
    path = tmp_path / "rhizome.db"
    open_database(path).conn.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, '')",
            [migration_set, name],
        )
        conn.commit()
    before = schema(path)
    with pytest.raises(DatabaseError, match="upgrade Rhizome") as error:
        open_database(path)
    assert said in str(error.value)
    assert schema(path) == before


def test_an_old_list_version_we_never_shipped_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    make_legacy_home(path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (13, 'm013_unknown', 0)")
        conn.commit()
    before = schema(path)
    with pytest.raises(DatabaseError, match=r"schema version 13.*upgrade Rhizome"):
        open_database(path)
    assert schema(path) == before


def test_a_purge_runs_the_hooks_of_the_schemas_the_connection_has(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    record_id = "cc" * 32
    insert_peer_record(tmp_path / "rhizome.db", record_id, "peer-one")
    with transaction(db):
        db.execute(
            "INSERT INTO approvals (record_id, member, at, envelope) VALUES (?, 'ana', 1, x'00')",
            [record_id],
        )
        db.execute(
            "INSERT INTO decision_state VALUES (?, 'peer-one', 'outbound', 'allowed')", [record_id]
        )
        assert delete_record(db, record_id)
    assert db.execute("SELECT count(*) FROM approvals").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM decision_state").fetchone()[0] == 0
    db.conn.close()
    # The archive alone has no governance tables, and no hook that would look for them.
    archive_only = connect(tmp_path / "archive.db")
    assert archive_only.conn.schemas == (ARCHIVE,)  # type: ignore[attr-defined]
    insert_peer_record(tmp_path / "archive.db", record_id, "peer-one")
    with transaction(archive_only):
        assert delete_record(archive_only, record_id)
    archive_only.conn.close()


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
