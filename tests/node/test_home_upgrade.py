"""A node home made before the per-package migrations opens with today's code: its lessons,
event log and members are kept, every migration counts as applied, and the archive
verifies."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from archive.migrations import SPLIT_MARKER, latest_version, schema_version
from archive.queries import count_records
from archive.verify import verify_archive
from node.node import Node
from tests.archive.test_migrations import legacy_versions, make_legacy_home, schema
from tests.conftest import FakeClock, write_lesson


def legacy_objects(scratch: Path) -> dict[str, tuple[str, str]]:
    """Name -> (type, SQL) of every object the code before the split made."""
    make_legacy_home(scratch)
    with closing(sqlite3.connect(scratch)) as conn:
        rows = conn.execute(
            "SELECT name, type, sql FROM sqlite_master WHERE sql IS NOT NULL"
        ).fetchall()
    return {name: (kind, sql) for name, kind, sql in rows}


def as_made_before_the_split(database: Path, scratch: Path) -> None:
    """What the code before the split left: the objects its twelve versions made (whatever
    later migrations added is taken away, a table they rebuilt gets its old form back with
    its rows), and only ``schema_migrations`` with versions 1..12 to say what ran."""
    legacy = legacy_objects(scratch)
    with closing(sqlite3.connect(database, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        objects = conn.execute(
            "SELECT name, type, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT IN ('schema_migrations', '_sqlite_migrations')"
        ).fetchall()
        for kind in ("trigger", "index", "table"):  # later objects, dependants first
            for name, made, _sql in objects:
                if (
                    made == kind
                    and name not in legacy
                    and not name.startswith("sqlite_")
                    and not _shadow(name, legacy)
                ):
                    conn.execute(f"DROP {kind.upper()} IF EXISTS {name}")
        for name, (kind, sql) in legacy.items():
            now = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()
            if kind == "table" and now and _folded(now[0]) != _folded(sql):
                _drop_later_columns(conn, name, sql)
                if _folded(_sql_of(conn, name)) != _folded(sql):
                    _rebuild_as(conn, name, sql)
        conn.execute("DROP TABLE _sqlite_migrations")
        conn.execute("DELETE FROM schema_migrations")
        conn.executemany(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 1)",
            [(version, name) for version, (name, _) in sorted(legacy_versions().items())],
        )
        conn.execute("COMMIT")


def _shadow(name: str, legacy: dict[str, tuple[str, str]]) -> bool:
    """An FTS5 shadow table (``records_fts_data``…) of a legacy virtual table."""
    return any(name.startswith(f"{table}_") and "fts5" in sql.lower()
               for table, (_, sql) in legacy.items())  # fmt: skip


def _folded(sql: str) -> str:
    return " ".join(sql.split())


def _sql_of(conn: sqlite3.Connection, name: str) -> str:
    return str(conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()[0])


def _drop_later_columns(conn: sqlite3.Connection, table: str, sql: str) -> None:
    """Drop the columns later migrations added (ALTER TABLE … ADD COLUMN)."""
    now = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    for column in now:
        if f" {column} " not in f" {_folded(sql).replace('(', ' ').replace(',', ' ')} ":
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _rebuild_as(conn: sqlite3.Connection, table: str, sql: str) -> None:
    """Give ``table`` its old CREATE statement back, keeping its rows in the old columns."""
    conn.execute(f"ALTER TABLE {table} RENAME TO {table}_later")
    conn.execute(sql)
    old = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    later = {row[1] for row in conn.execute(f"PRAGMA table_info({table}_later)")}
    columns = ", ".join(column for column in old if column in later)
    conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_later")
    conn.execute(f"DROP TABLE {table}_later")


def test_a_home_made_before_the_split_keeps_everything(
    home: Path, clock: FakeClock, tmp_path: Path
) -> None:
    node = Node(home, clock=clock)
    for number in range(3):
        node.add_lesson_file(write_lesson(tmp_path, f"{number}.md", {
            "title": f"Lesson {number}", "kind": "checklist"
        }))  # fmt: skip
    node.close()
    database = home / "rhizome.db"
    before = schema(database)
    as_made_before_the_split(database, tmp_path / "legacy.db")

    node = Node(home, clock=clock)
    try:
        assert count_records(node.db) == 3
        assert node.member("admin").name == "admin"
        assert schema_version(node.db) == latest_version(node.db)
        report = verify_archive(node.db, node.public_key)
        assert report.intact, report.problems
        assert report.events_checked >= 4
        versions = [row[0] for row in node.db.execute("SELECT version FROM schema_migrations")]
        assert versions == [*range(1, 13), SPLIT_MARKER]
    finally:
        node.close()
    assert schema(database) == before
