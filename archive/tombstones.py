"""Tombstones: what is left of a withdrawn record, and what beats every copy of it.

A revocation is stored with its signed bytes and kept forever; each record id it covers
gets a tombstone. Every path that could bring a record in (sync, push, bundles, the API, a
restored backup meeting its peers) asks :func:`is_tombstoned` first.
"""

from __future__ import annotations

import json

import sqlite_utils

from archive.blobs import withdraw_blobs
from archive.derivation import dependents_of
from archive.errors import AmbiguousRecordId, UnknownRecord
from archive.purge import delete_record, mark_purge_pending
from archive.queries import MIN_PREFIX


def tombstone_for(db: sqlite_utils.Database, record_id: str, origin: str) -> str | None:
    """The revocation withdrawing ``record_id``, if its origin issued one.

    Bound to the origin: a revocation only ever withdraws its signer's own records, so a
    node cannot block another hub's lesson by naming its id in a revocation of its own. A
    translation or version purged with the record it derives from has a tombstone bound to
    its own origin (``derived_origin``).
    """
    row = db.execute(
        "SELECT t.revocation_id FROM tombstones AS t JOIN revocations AS r "
        "ON r.revocation_id = t.revocation_id WHERE t.record_id = ? "
        "AND coalesce(t.derived_origin, r.origin) = ?",
        [record_id, origin],
    ).fetchone()
    return None if row is None else str(row[0])


def is_tombstoned(db: sqlite_utils.Database, record_id: str, origin: str) -> bool:
    """Whether the record's own origin withdrew it (then no copy is ever stored again)."""
    return tombstone_for(db, record_id, origin) is not None


def tombstone_of(db: sqlite_utils.Database, record_id: str) -> str | None:
    """The revocation to show for ``record_id`` when its origin is not at hand (the record
    is purged): ours if we issued one, else the first we learned of."""
    row = db.execute(
        "SELECT t.revocation_id FROM tombstones AS t JOIN revocations AS r "
        "ON r.revocation_id = t.revocation_id WHERE t.record_id = ? "
        "ORDER BY r.received_from IS NULL DESC, r.stored_at LIMIT 1",
        [record_id],
    ).fetchone()
    return None if row is None else str(row[0])


def has_revocation(db: sqlite_utils.Database, revocation_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM revocations WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return row is not None


def store_revocation(
    db: sqlite_utils.Database,
    revocation_id: str,
    envelope: bytes,
    origin: str,
    issued_at: int,
    reason: str,
    record_ids: tuple[str, ...],
    received_from: str | None,
    now: int,
    note: str | None = None,
) -> list[str]:
    """Keep the revocation, tombstone its ids and purge every copy of *its origin's* we hold,
    then every translation or version derived from them, whatever its origin (each gets a
    tombstone bound to its own origin), in the caller's transaction. Returns the ids that
    were actually purged here, the named ones first, then the derived ones.

    When something was purged, a *purge pending* marker is written in the same transaction:
    the purge is durable only once :func:`archive.purge.finish_pending_purges` has scrubbed
    the disk, and a crash before that is redone at the next start."""
    db.execute(
        "INSERT OR IGNORE INTO revocations (revocation_id, envelope, origin, issued_at, reason, "
        "received_from, stored_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [revocation_id, envelope, origin, issued_at, reason, received_from, now, note],
    )
    purged = []
    for record_id in record_ids:
        db.execute(
            "INSERT OR IGNORE INTO tombstones (record_id, revocation_id) VALUES (?, ?)",
            [record_id, revocation_id],
        )
        held = db.execute("SELECT origin FROM records WHERE id = ?", [record_id]).fetchone()
        if held is None or held[0] != origin:
            continue  # not a copy of this origin's: a revocation withdraws only its own
        if delete_record(db, record_id):
            purged.append(record_id)
    purged += _purge_dependents(db, dependents_of(db, record_ids, origin), revocation_id)
    # A withdrawal may name attachment blobs (a subject withdrew): their bytes go too.
    if withdraw_blobs(db, record_ids, origin) or purged:
        mark_purge_pending(db, revocation_id, now)
    return purged


def _purge_dependents(
    db: sqlite_utils.Database, dependents: list[tuple[str, str]], revocation_id: str
) -> list[str]:
    """Tombstone each (id, origin) under ``revocation_id``, bound to its own origin, and
    purge the ones we hold. Returns those."""
    purged = []
    for record_id, derived_origin in dependents:
        db.execute(
            "INSERT OR IGNORE INTO tombstones (record_id, revocation_id, derived_origin) "
            "VALUES (?, ?, ?)",
            [record_id, revocation_id, derived_origin],
        )
        if delete_record(db, record_id):
            purged.append(record_id)
    return purged


def tombstone_derived(
    db: sqlite_utils.Database, record_id: str, origin: str, revocation_id: str, now: int
) -> list[str]:
    """A record of ``origin`` arrived that derives from one ``revocation_id`` withdrew, and
    was refused: keep a tombstone for it too (bound to its own origin), as if we had held
    and purged it, so whatever derives from *it* is refused in turn, in any later batch, on
    any path, even though it never got in. What we already hold that derives from it (a
    translation of it that arrived first) is purged now (caller's transaction). Returns the
    ids purged."""
    dependents = [(record_id, origin), *dependents_of(db, [record_id], origin)]
    purged = _purge_dependents(db, dependents, revocation_id)
    if purged:
        mark_purge_pending(db, revocation_id, now)
    return purged


def revocation_envelope(db: sqlite_utils.Database, revocation_id: str) -> bytes | None:
    row = db.execute(
        "SELECT envelope FROM revocations WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return None if row is None else bytes(row[0])


def resolve_revoked_id(db: sqlite_utils.Database, text: str) -> str:
    """The full id of a revoked record from its id or a unique prefix (its row is gone)."""
    prefix = text.strip().lower()
    rows = db.execute(
        "SELECT record_id FROM tombstones WHERE record_id >= ? AND record_id < ? LIMIT 2",
        [prefix, prefix + "g"],
    ).fetchall()
    if len(prefix) < MIN_PREFIX or not rows:
        raise UnknownRecord(f"no revoked record {prefix!r} on this node")
    if len(rows) > 1:
        raise AmbiguousRecordId(f"several revoked records start with {prefix}: type more of the id")
    return str(rows[0][0])


# -- facts for the layers above (federation reads revocations and tombstones only here) ----

LOOKUP_CHUNK = 500  # ids per lookup: well under SQLite's limit of bound values


def any_tombstone(db: sqlite_utils.Database) -> bool:
    """Whether anything was ever withdrawn here (lookups can be skipped while not)."""
    return db.execute("SELECT 1 FROM tombstones LIMIT 1").fetchone() is not None


def covered_ids(db: sqlite_utils.Database, revocation_id: str) -> tuple[str, ...]:
    """What a revocation withdraws here: the ids it names, and the translations and
    versions derived from them that we purged with them (archive.derivation)."""
    rows = db.execute("SELECT record_id FROM tombstones WHERE revocation_id = ?", [revocation_id])
    return tuple(str(row[0]) for row in rows)


def revocation_source(
    db: sqlite_utils.Database, revocation_id: str
) -> tuple[str, str | None] | None:
    """(origin, the peer it came from: None for our own) of a stored revocation."""
    row = db.execute(
        "SELECT origin, received_from FROM revocations WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))


def revocation_with_note(
    db: sqlite_utils.Database, revocation_id: str
) -> tuple[bytes, str | None]:
    """The signed revocation and the note kept with it (never sent)."""
    envelope, note = db.execute(
        "SELECT envelope, note FROM revocations WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return bytes(envelope), note


def tombstones_naming(
    db: sqlite_utils.Database, record_ids: list[str], origin: str | None = None
) -> list[tuple[str, str, str]]:
    """(record id, revocation id, its origin) for the ids a revocation we hold names (only
    ``origin``'s revocations if given). One indexed lookup per id, in chunks that stay under
    SQLite's limit of bound values; nothing at all while nothing was ever revoked here."""
    if not record_ids or not any_tombstone(db):
        return []
    found = []
    for start in range(0, len(record_ids), LOOKUP_CHUNK):
        chunk = record_ids[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        by_origin = "" if origin is None else " AND r.origin = ?"
        rows = db.execute(
            "SELECT t.record_id, t.revocation_id, r.origin FROM tombstones AS t "
            "JOIN revocations AS r ON r.revocation_id = t.revocation_id "
            f"WHERE t.record_id IN ({marks}){by_origin}",
            [*chunk, *([] if origin is None else [origin])],
        )
        found += [(str(row[0]), str(row[1]), str(row[2])) for row in rows]
    return found


def revocations_covering(db: sqlite_utils.Database, record_ids: list[str]) -> list[bytes]:
    """Every signed revocation whose tombstones cover one of these ids, each once, oldest
    issued first."""
    rows = db.execute(
        "SELECT DISTINCT r.envelope, r.issued_at FROM revocations AS r JOIN tombstones AS t "
        "ON t.revocation_id = r.revocation_id "
        "WHERE t.record_id IN (SELECT value FROM json_each(?)) ORDER BY r.issued_at",
        [json.dumps(record_ids)],
    )
    return [bytes(row[0]) for row in rows]


def own_withdrawals(db: sqlite_utils.Database, origin: str) -> list[tuple[str, str]]:
    """(revocation id, record id) of every id ``origin``'s own revocations withdraw here."""
    rows = db.execute(
        "SELECT t.revocation_id, t.record_id FROM revocations r JOIN tombstones t "
        "ON t.revocation_id = r.revocation_id WHERE r.origin = ?",
        [origin],
    )
    return [(str(row[0]), str(row[1])) for row in rows]


def tombstone_count(db: sqlite_utils.Database) -> int:
    """Withdrawn record ids (one per id and revocation)."""
    return int(db.execute("SELECT count(*) FROM tombstones").fetchone()[0])
