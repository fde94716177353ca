"""Running each package's schema migrations, and upgrading homes from the old single list.

Each package owns its tables and their migrations (``archive/schema.py``,
``governance/schema.py``, ``federation/schema.py``): a :class:`Schema` names its tables and
holds a :class:`sqlite_utils.Migrations` set. Sets are applied in layer order (archive,
governance, federation), each migration in its own savepoint, all of them in one
``BEGIN IMMEDIATE`` transaction, so a second process opening the database waits and then
finds nothing left to do. ``_sqlite_migrations`` (sqlite-utils' table) remembers which ran,
by set and name. A shipped migration never changes; a new one is added at the end of its
package's set.

Before this split one positional list in this module created every table, and homes record
versions 1..12 of it in ``schema_migrations``. Every migration that came from that list keeps
its old number as its name's prefix (``m003_…``): opening such a home marks the migrations
of the versions it recorded as applied, then runs the rest. ``schema_migrations`` stays,
with one more row (:data:`SPLIT_MARKER`) that an older Rhizome reads as "newer than I know"
and refuses, as it always did.

A database from a newer Rhizome is refused: one with a migration set, or a migration in one
of our sets, that this Rhizome does not know.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlite_utils

from archive.errors import DatabaseError

PurgeHook = Callable[[sqlite_utils.Database, str], None]
BOOKKEEPING = "_sqlite_migrations"
LEGACY = "schema_migrations"
LEGACY_VERSIONS = 12  # versions of the old positional list (m001..m012)
SPLIT_MARKER = 100  # version an older Rhizome sees: newer than its 12, so it refuses
_LEGACY_PREFIX = re.compile(r"^m(\d{3})_")


@dataclass(frozen=True)
class Schema:
    """One package's part of the database: the tables it owns and the migrations making them.

    ``purge_hooks`` run inside the transaction that purges a record (with its id), so the
    owner of per-record rows forgets them without archive knowing its tables.
    ``foreign_reads`` names tables of other packages its schema statements read (a trigger on
    them, a backfill), with the reason: the ownership test allows only those.
    """

    name: str
    migrations: sqlite_utils.Migrations
    tables: frozenset[str]
    purge_hooks: tuple[PurgeHook, ...] = ()
    foreign_reads: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [migration.name for migration in self.migrations._migrations]


def legacy_version(name: str) -> int | None:
    """The old positional version a migration came from (its ``mNNN_`` prefix, NNN ≤ 12)."""
    match = _LEGACY_PREFIX.match(name)
    if match is None or int(match.group(1)) > LEGACY_VERSIONS:
        return None
    return int(match.group(1))


def schemas_of(db: sqlite_utils.Database) -> tuple[Schema, ...]:
    """The schemas this connection was opened with (see :func:`archive.db.connect`)."""
    schemas: tuple[Schema, ...] = getattr(db.conn, "schemas", ())
    return schemas


def schema_version(db: sqlite_utils.Database) -> int:
    """How many of this connection's schemas' migrations the database has applied."""
    known = {(schema.name, name) for schema in schemas_of(db) for name in schema.names()}
    return len(known & _applied(db))


def latest_version(db: sqlite_utils.Database) -> int:
    """How many migrations this Rhizome knows for this connection's schemas."""
    return sum(len(schema.names()) for schema in schemas_of(db))


def migrate(db: sqlite_utils.Database, schemas: Sequence[Schema]) -> None:
    """Bring every schema up to date; refuse a database from a newer release.

    Cheap when nothing is due (reads only, no write lock): every connection calls it.
    """
    if not _work_due(db, schemas):
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        if _work_due(db, schemas):  # another process may have just done it
            _adopt_legacy_versions(db, schemas)
            for schema in schemas:
                schema.migrations.apply(db)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def _work_due(db: sqlite_utils.Database, schemas: Sequence[Schema]) -> bool:
    """Whether anything is left to do; raises :class:`DatabaseError` for a newer database."""
    legacy = _legacy_versions(db)
    if legacy and max(legacy) > LEGACY_VERSIONS and SPLIT_MARKER not in legacy:
        _refuse(db, f"schema version {max(legacy)}")
    applied = _applied(db)
    known = {(schema.name, name) for schema in schemas for name in schema.names()}
    sets = {schema.name for schema in schemas}
    for set_name, name in sorted(applied - known):
        what = f"migration {name} of {set_name}" if set_name in sets else f"schema {set_name}"
        _refuse(db, what)
    return SPLIT_MARKER not in legacy or bool(known - applied)


def _refuse(db: sqlite_utils.Database, what: str) -> None:
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    raise DatabaseError(
        f"{path}: the database has {what}, newer than this Rhizome knows: upgrade Rhizome"
    )


def _legacy_versions(db: sqlite_utils.Database) -> set[int]:
    if not _has_table(db, LEGACY):
        return set()
    return {int(row[0]) for row in db.execute(f"SELECT version FROM {LEGACY}")}


def _applied(db: sqlite_utils.Database) -> set[tuple[str, str]]:
    if not _has_table(db, BOOKKEEPING):
        return set()
    rows = db.execute(f"SELECT migration_set, name FROM {BOOKKEEPING}")
    return {(str(set_name), str(name)) for set_name, name in rows}


def _has_table(db: sqlite_utils.Database, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
    return row.fetchone() is not None


def _adopt_legacy_versions(db: sqlite_utils.Database, schemas: Sequence[Schema]) -> None:
    """Mark what a home made by the old positional list already has (again for a set seen
    the first time: the old rows never change), and leave the marker that keeps an older
    Rhizome out. A fresh database gets the marker too."""
    legacy = _legacy_versions(db)
    if not _has_table(db, LEGACY):
        db.execute(
            f"CREATE TABLE {LEGACY} "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
    for schema in schemas:
        schema.migrations.ensure_migrations_table(db)
        for name in schema.names():
            if legacy_version(name) in legacy:
                _record_applied(db, schema.name, name)
    if SPLIT_MARKER in legacy:
        return
    db.execute(
        f"INSERT INTO {LEGACY} (version, name, applied_at) VALUES (?, ?, ?)",
        [SPLIT_MARKER, f"per-package migrations, see {BOOKKEEPING}", int(time.time())],
    )


def _record_applied(db: sqlite_utils.Database, set_name: str, name: str) -> None:
    db.execute(
        f"INSERT OR IGNORE INTO {BOOKKEEPING} (migration_set, name, applied_at) VALUES (?, ?, ?)",
        [set_name, name, f"adopted from {LEGACY}"],
    )
