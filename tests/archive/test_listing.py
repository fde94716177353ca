"""The lesson list's stored facts stay exact, and its keyset pages never skip or repeat.

``records.latest`` and ``listed_counts`` are kept by triggers (archive/listing_schema.py);
these tests check them against their definitions (the ``NOT EXISTS`` over versions and a
``count(*)``) after any sequence of writes a node can see: own lessons, versions, versions
arriving before the version they replace, a foreign origin naming our lesson, quarantine
and its release, purges.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.db import connect
from archive.listing import InvalidCursor, all_listed, cursor_of, lesson_page
from archive.migrations import Schema
from archive.purge import delete_record
from archive.quarantine_flag import release_from_quarantine
from archive.queries import RecordFilters, count_listed
from archive.record import Consent, Lesson, Subject
from archive.record_facts import EXPIRED_SQL
from archive.schema import SCHEMA as ARCHIVE
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import derived_columns, insert_record, search_columns
from crypto.signing import SigningIdentity
from node.database import SCHEMAS, open_database
from tests.conftest import SEED_A, SEED_B, START

IDENTITIES = (SigningIdentity.from_seed(SEED_A), SigningIdentity.from_seed(SEED_B))
DEFINITION = (
    "SELECT id FROM records WHERE quarantined = 0 AND NOT EXISTS (SELECT 1 FROM records AS "
    "newer WHERE newer.supersedes = records.id AND newer.origin = records.origin) "
    "ORDER BY created DESC, id DESC"
)


@contextmanager
def fresh_database() -> Iterator[sqlite_utils.Database]:
    with tempfile.TemporaryDirectory(prefix="rhizome-listing-") as folder:
        db = open_database(Path(folder) / "rhizome.db")
        try:
            yield db
        finally:
            db.conn.close()


class Archive:
    """Signs and stores generated lessons the way sync and the writer do (insert_record)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.made = 0
        self.stored: list[SignedRecord] = []
        self.waiting: list[SignedRecord] = []  # older versions not yet received

    def lesson(self, origin: int, created: int, **changes: object) -> SignedRecord:
        self.made += 1
        lesson = Lesson(
            kind=("checklist", "story")[self.made % 2],
            title=f"Lesson {self.made}",
            body="Count against the buddy list.\n",
            language=("en", "es", "sw")[self.made % 3],
            region="East Africa",
            created=START + created,
            origin=IDENTITIES[origin].public_key,
            author="admin",
            tags=(("safety", "debrief"), ("safety",), ())[self.made % 3],
            consent=Consent(basis="consent", scope=("public", "federation")[self.made % 2]),
        )
        return sign_lesson(IDENTITIES[origin], dataclasses.replace(lesson, **changes))

    def store(self, record: SignedRecord, quarantined: bool = False) -> None:
        if insert_record(self.db, record, None, START, quarantined=quarantined):
            self.stored.append(record)

    def pick(self, index: int) -> SignedRecord | None:
        held = [record for record in self.stored if self._held(record)]
        return held[index % len(held)] if held else None

    def _held(self, record: SignedRecord) -> bool:
        row = self.db.execute("SELECT 1 FROM records WHERE id = ?", [record.id_hex])
        return row.fetchone() is not None


operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 1), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("version"), st.integers(0, 50), st.integers(0, 1), st.integers(0, 3)),
        st.tuples(st.just("version_first"), st.integers(0, 1), st.integers(0, 3)),
        st.tuples(st.just("older_arrives"), st.integers(0, 50)),
        st.tuples(st.just("purge"), st.integers(0, 50)),
        st.tuples(st.just("release"), st.integers(0, 50)),
    ),
    max_size=25,
)


def apply(archive: Archive, operation: tuple[object, ...]) -> None:
    kind, *args = operation
    if kind == "add":
        origin, created, quarantined = args
        archive.store(archive.lesson(int(origin), int(created)), bool(quarantined))
    elif kind == "version":  # any origin: a foreign one must not hide the lesson
        target = archive.pick(int(args[0]))
        if target is not None:
            newer = archive.lesson(int(args[1]), int(args[2]), supersedes=target.record_id)
            archive.store(newer)
    elif kind == "version_first":  # a peer sends the new version before the old one
        older = archive.lesson(int(args[0]), int(args[1]))
        archive.store(archive.lesson(int(args[0]), int(args[1]) + 1, supersedes=older.record_id))
        archive.waiting.append(older)
    elif kind == "older_arrives" and archive.waiting:
        archive.store(archive.waiting.pop(int(args[0]) % len(archive.waiting)))
    elif kind == "purge":
        target = archive.pick(int(args[0]))
        if target is not None:
            delete_record(archive.db, target.id_hex)
    elif kind == "release":
        target = archive.pick(int(args[0]))
        if target is not None:
            release_from_quarantine(archive.db, target.id_hex)


def recounted(db: sqlite_utils.Database) -> dict[tuple[str, str], int]:
    """``listed_counts`` computed from scratch (zero rows left out)."""
    listed = [row[0] for row in db.execute(DEFINITION)]
    counts: dict[tuple[str, str], int] = {}
    for record_id in listed:
        row = db.execute(
            "SELECT kind, language, region, scope, tags FROM records WHERE id = ?", [record_id]
        ).fetchone()
        keys = [("all", ""), *zip(("kind", "language", "region", "scope"), row[:4], strict=True)]
        keys += [("tag", tag) for tag in set(sqlite_utils.utils.json.loads(row[4]))]
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return counts


def stored_counts(db: sqlite_utils.Database) -> dict[tuple[str, str], int]:
    rows = db.execute("SELECT facet, value, lessons FROM listed_counts WHERE lessons != 0")
    return {(str(facet), str(value)): int(lessons) for facet, value, lessons in rows}


def listed_ids(db: sqlite_utils.Database) -> list[str]:
    return [str(row[0]) for row in db.execute(DEFINITION)]


@settings(max_examples=60)
@given(operations)
def test_the_latest_flag_and_the_counts_match_their_definitions_after_any_writes(
    steps: list[tuple[object, ...]],
) -> None:
    with fresh_database() as db:
        archive = Archive(db)
        for step in steps:
            apply(archive, step)
            assert [summary.id for summary in all_listed(db, batch=3)] == listed_ids(db)
            assert stored_counts(db) == recounted(db)


@settings(max_examples=40)
@given(operations, operations, st.integers(1, 4), st.integers(0, 6))
def test_pages_joined_are_the_list_even_with_writes_between_pages(
    before: list[tuple[object, ...]],
    between: list[tuple[object, ...]],
    size: int,
    write_every: int,
) -> None:
    """Following ``older`` cursors while lessons are added, superseded and purged: no lesson
    shows twice, the order holds, and every lesson listed from start to end is shown."""
    with fresh_database() as db:
        archive = Archive(db)
        for step in before:
            apply(archive, step)
        at_start = set(listed_ids(db))
        seen: list[str] = []
        keys: list[tuple[int, str]] = []
        page = lesson_page(db, limit=size)
        pending = list(between)
        turns = 0
        while True:
            seen.extend(summary.id for summary in page.lessons)
            keys.extend((summary.created, summary.id) for summary in page.lessons)
            if write_every and turns % write_every == 0 and pending:
                apply(archive, pending.pop(0))
            turns += 1
            if page.older is None:
                break
            page = lesson_page(db, limit=size, after=page.older)
        assert len(seen) == len(set(seen))
        assert keys == sorted(keys, reverse=True)
        assert at_start & set(listed_ids(db)) <= set(seen)


def test_pages_backwards_are_the_pages_forwards(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    archive = Archive(db)
    for index in range(11):
        archive.store(archive.lesson(0, index // 3))  # ties on created: the id decides
    forwards = [lesson_page(db, limit=4)]
    while forwards[-1].older:
        forwards.append(lesson_page(db, limit=4, after=forwards[-1].older))
    assert [len(page.lessons) for page in forwards] == [4, 4, 3]
    assert forwards[0].newer is None and forwards[-1].older is None
    back = lesson_page(db, limit=4, before=forwards[2].newer)
    assert back.lessons == forwards[1].lessons
    assert lesson_page(db, limit=4, before=back.newer).lessons == forwards[0].lessons
    assert lesson_page(db, limit=4, before=back.newer).newer is None
    assert lesson_page(db, limit=4, offset=4).lessons == forwards[1].lessons
    assert cursor_of(forwards[0].lessons[-1]) == forwards[0].older


@pytest.mark.parametrize(
    "cursor", ["", "12", "abc.def", "1.xyz", f"1.{'a' * 63}", f"-1.{'a' * 64}", "1." + "A" * 64]
)
def test_a_cursor_the_node_never_handed_out_is_refused(tmp_path: Path, cursor: str) -> None:
    db = open_database(tmp_path / "rhizome.db")
    with pytest.raises(InvalidCursor, match="cursor"):
        lesson_page(db, after=cursor or "x")
    with pytest.raises(InvalidCursor, match="cursor"):
        lesson_page(db, before=cursor or "x")


def test_offset_beyond_its_bound_and_both_directions_are_refused(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    with pytest.raises(InvalidCursor, match="offset goes up to 10000"):
        lesson_page(db, offset=10_001)
    with pytest.raises(InvalidCursor, match="not both"):
        lesson_page(db, after=f"1.{'a' * 64}", before=f"1.{'a' * 64}")


def test_counts_with_one_filter_are_exact_and_with_two_are_counted(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    archive = Archive(db)
    for index in range(12):
        archive.store(archive.lesson(0, index))
    by_kind = count_listed(db, RecordFilters(kind="story"))
    both = count_listed(db, RecordFilters(kind="story", language="en"))
    by_tag = count_listed(db, RecordFilters(tag="SAFETY"))
    assert by_kind == (6, True)
    assert both == (len(lesson_page(db, RecordFilters(kind="story", language="en")).lessons), True)
    assert by_tag == (8, True)
    assert count_listed(db, RecordFilters(region="nowhere")) == (0, True)


READ_PATH_MIGRATIONS = {"m014_latest_flag_and_counts", "m015_expires_at", "m016_quarantine_index"}


def schemas_before_the_read_path_migrations() -> tuple[Schema, ...]:
    """Every package's schema as a release before m014..m016 had it (later ones of other
    packages kept: they do not touch these columns)."""
    older = sqlite_utils.Migrations("archive")
    for migration in ARCHIVE.migrations._migrations:
        if migration.name not in READ_PATH_MIGRATIONS:
            older(name=migration.name)(migration.fn)
    return (dataclasses.replace(ARCHIVE, migrations=older), *SCHEMAS[1:])


def old_insert(db: sqlite_utils.Database, record: SignedRecord, quarantined: bool = False) -> None:
    row = {"id": record.id_hex, "envelope": record.envelope, **derived_columns(record)}
    del row["expires_at"]
    row.update(received_from=None, stored_at=START, quarantined=int(quarantined))
    db.execute(
        f"INSERT INTO records ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )
    db.execute(
        "INSERT INTO records_fts (rowid, title, summary, body, tags) "
        "VALUES (last_insert_rowid(), ?, ?, ?, ?)",
        list(search_columns(record.lesson)),
    )


def test_opening_an_older_home_fills_the_new_columns_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "rhizome.db"
    old = connect(path, schemas_before_the_read_path_migrations())
    archive = Archive(old)
    first = archive.lesson(0, 1, consent=Consent(basis="consent", scope="peers", expires=START + 9))
    second = archive.lesson(
        0, 2, supersedes=first.record_id,
        consent=Consent(basis="consent", subjects=(Subject("p1", expires=START + 5),)),
    )  # fmt: skip
    hijack = archive.lesson(1, 3, supersedes=second.record_id)  # another origin: hides nothing
    held = archive.lesson(1, 4)
    for record in (first, second, hijack):
        old_insert(old, record)
    old_insert(old, held, quarantined=True)
    old.conn.close()

    db = open_database(path)
    rows = db.execute("SELECT id, latest, expires_at FROM records ORDER BY created").fetchall()
    assert [tuple(row) for row in rows] == [
        (first.id_hex, 0, START + 9),
        (second.id_hex, 1, START + 5),
        (hijack.id_hex, 1, None),
        (held.id_hex, 1, None),
    ]
    assert [summary.id for summary in all_listed(db)] == [hijack.id_hex, second.id_hex]
    assert stored_counts(db) == recounted(db)
    assert count_listed(db) == (2, True)
    release_from_quarantine(db, held.id_hex)
    assert count_listed(db) == (3, True)


def query_plan(db: sqlite_utils.Database, sql: str, params: list[object]) -> str:
    return " / ".join(str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_the_expiry_check_reads_its_index(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    plan = query_plan(db, EXPIRED_SQL, ["origin", START])
    assert "SEARCH records USING INDEX records_by_expiry (origin=? AND expires_at" in plan
    assert "SCAN records" not in plan


def test_a_page_of_the_list_reads_its_index_in_order(tmp_path: Path) -> None:
    db = open_database(tmp_path / "rhizome.db")
    archive = Archive(db)
    for index in range(3):
        archive.store(archive.lesson(0, index))
    traced: list[str] = []
    db.conn.set_trace_callback(traced.append)
    lesson_page(db, limit=2, after=f"{START + 2}.{'f' * 64}")
    lesson_page(db, RecordFilters(scope="public"), limit=2, before=f"{START}.{'0' * 64}")
    db.conn.set_trace_callback(None)
    plans = [query_plan(db, sql, []) for sql in traced if "ORDER BY" in sql]
    assert len(plans) == 2
    assert "USING INDEX records_listed ((created,id)<" in plans[0]
    assert "USING INDEX records_listed_by_scope (scope=? AND (created,id)>" in plans[1]
    assert not any("TEMP B-TREE" in plan for plan in plans)
