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
from tests.archive.test_migrations import legacy_versions, schema
from tests.conftest import FakeClock, write_lesson


def as_made_before_the_split(database: Path) -> None:
    """What the code before the split left: the same tables (test_migrations shows the SQL
    is the same), and only ``schema_migrations`` with versions 1..12 to say what ran."""
    with closing(sqlite3.connect(database)) as conn:
        # What migrations after the split (m013 onwards) made did not exist yet either.
        conn.execute("DROP TABLE member_tokens")
        for table in ("key_statements", "node_keys", "key_forks"):  # archive m035
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE members DROP COLUMN session_epoch")
        conn.execute("DROP TABLE _sqlite_migrations")
        conn.execute("DELETE FROM schema_migrations")
        conn.executemany(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 1)",
            [(version, name) for version, (name, _) in sorted(legacy_versions().items())],
        )
        conn.commit()


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
    as_made_before_the_split(database)

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
