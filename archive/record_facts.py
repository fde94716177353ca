"""Single facts about stored records, for the layers above (federation, governance, node).

Archive owns ``records``: other packages ask these functions instead of running SQL on it
(tests/test_table_ownership.py). Each reads only; writes go through archive.store and
archive.purge.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlite_utils


def is_held(db: sqlite_utils.Database, record_id: str) -> bool:
    """Whether a record with this id is stored here (quarantined or not)."""
    row = db.execute("SELECT 1 FROM records WHERE id = ?", [record_id]).fetchone()
    return row is not None


def record_origin(db: sqlite_utils.Database, record_id: str) -> str | None:
    """The node that signed a stored record (None when it is not held)."""
    row = db.execute("SELECT origin FROM records WHERE id = ?", [record_id]).fetchone()
    return None if row is None else str(row[0])


def record_author(db: sqlite_utils.Database, record_id: str) -> str | None:
    row = db.execute("SELECT author FROM records WHERE id = ?", [record_id]).fetchone()
    return None if row is None else str(row[0])


def record_envelope(db: sqlite_utils.Database, record_id: str) -> bytes | None:
    """The signed bytes of a stored record, as they travel."""
    row = db.execute("SELECT envelope FROM records WHERE id = ?", [record_id]).fetchone()
    return None if row is None else bytes(row[0])


def holds_another_origins(
    db: sqlite_utils.Database, record_ids: tuple[str, ...], origin: str
) -> bool:
    """Whether any of these ids is stored here signed by another node than ``origin``."""
    row = db.execute(
        "SELECT 1 FROM records WHERE id IN (SELECT value FROM json_each(?)) AND origin != ? "
        "LIMIT 1",
        [json.dumps(list(record_ids)), origin],
    ).fetchone()
    return row is not None


def record_count(db: sqlite_utils.Database) -> int:
    """Every stored record, quarantined and superseded ones included."""
    return int(db.execute("SELECT count(*) FROM records").fetchone()[0])


def arrivals_since(
    db: sqlite_utils.Database, not_origin: str, stored_since: int, after_seq: int
) -> list[tuple[str, int]]:
    """(id, its arrival entry in the event log) of the records not signed by ``not_origin``,
    stored at or after ``stored_since`` and arrived after entry ``after_seq`` (0: any), in
    arrival order (what a bundle's ``--since`` means)."""
    rows = db.execute(
        "SELECT r.id, coalesce(min(e.seq), 0) AS arrived FROM records AS r "
        "LEFT JOIN events AS e ON e.subject = r.id "
        "AND e.kind IN ('record.added', 'record.received') "
        "WHERE r.origin != ? AND r.stored_at >= ? GROUP BY r.id "
        "HAVING ? = 0 OR arrived > ? ORDER BY arrived, r.id",
        [not_origin, stored_since, after_seq, after_seq],
    )
    return [(str(record_id), int(arrived)) for record_id, arrived in rows]


EXPIRED_SQL = """
SELECT id FROM records
WHERE origin = ? AND expires_at IS NOT NULL AND expires_at <= ?
AND NOT EXISTS (SELECT 1 FROM tombstones WHERE tombstones.record_id = records.id)
"""


def expired_records(db: sqlite_utils.Database, origin: str, now: int) -> list[str]:
    """``origin``'s records whose consent, or one participant's, has expired by ``now``,
    not yet withdrawn (no tombstone). Reads the index of ``expires_at`` (the earliest expiry
    in the record), so a run costs what is due, not what is stored."""
    return [str(row[0]) for row in db.execute(EXPIRED_SQL, [origin, now])]


_EARLIER_SQL = """
WITH RECURSIVE chain (id, ancestor) AS (
    SELECT id, supersedes FROM records WHERE supersedes IS NOT NULL {where}
    UNION
    SELECT chain.id, earlier.supersedes FROM chain
    JOIN records AS earlier ON earlier.id = chain.ancestor
    WHERE earlier.supersedes IS NOT NULL
)
SELECT chain.id, earlier.consent, earlier.sensitivity, earlier.author, earlier.origin
FROM chain JOIN records AS earlier ON earlier.id = chain.ancestor
"""


def earlier_versions(
    db: sqlite_utils.Database, origin: str, record_id: str | None = None
) -> list[tuple[str, Any, str, str, str]]:
    """(newer id, consent JSON, sensitivity, author, origin) of every version that ``origin``'s
    records (or one of them) replace, walking the ``supersedes`` chain back."""
    where, params = "AND origin = ?", [origin]
    if record_id is not None:
        where, params = "AND origin = ? AND id = ?", [origin, record_id]
    rows = db.execute(_EARLIER_SQL.format(where=where), params)
    return [(str(a), b, str(c), str(d), str(e)) for a, b, c, d, e in rows]


# What a sharing decision reads of each record (federation.sharing builds its facts from it).
POLICY_COLUMNS = (
    "created, id, origin, consent, sensitivity, kind, tags, author, received_from, quarantined"
)


def policy_row(db: sqlite_utils.Database, record_id: str) -> tuple[Any, ...] | None:
    """:data:`POLICY_COLUMNS` of one stored record (None when it is not held)."""
    row = db.execute(f"SELECT {POLICY_COLUMNS} FROM records WHERE id = ?", [record_id])
    found: tuple[Any, ...] | None = row.fetchone()
    return found


def policy_rows_with_envelopes(
    db: sqlite_utils.Database, record_ids: list[str]
) -> dict[str, tuple[tuple[Any, ...], bytes]]:
    """:data:`POLICY_COLUMNS` and the envelope of each of these records held here, by id,
    in one query (a fetch asks for hundreds at once)."""
    rows = db.execute(
        f"SELECT {POLICY_COLUMNS}, envelope FROM records "
        "WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(record_ids)],
    )
    return {str(row[1]): (tuple(row[:-1]), bytes(row[-1])) for row in rows}


def policy_rows(db: sqlite_utils.Database) -> Iterator[tuple[Any, ...]]:
    """:data:`POLICY_COLUMNS` of every stored record by (created, id), streamed: at a
    million records no list of them is ever held."""
    yield from db.execute(f"SELECT {POLICY_COLUMNS} FROM records ORDER BY created, id")


def policy_rows_of(db: sqlite_utils.Database, record_ids: list[str]) -> list[tuple[Any, ...]]:
    """:data:`POLICY_COLUMNS` of each of these records held here, by (created, id)."""
    rows = db.execute(
        f"SELECT {POLICY_COLUMNS} FROM records WHERE id IN (SELECT value FROM json_each(?)) "
        "ORDER BY created, id",
        [json.dumps(record_ids)],
    )
    return [tuple(row) for row in rows]


def linked_records(db: sqlite_utils.Database, record_ids: list[str]) -> set[str]:
    """The held records one version or translation link away from these ids (either way):
    a step of the walk that finds every record whose consent bounds depend on them."""
    rows = db.execute(
        "WITH wanted (id) AS (SELECT value FROM json_each(?)) "
        "SELECT records.id FROM records JOIN wanted ON records.supersedes = wanted.id "
        "UNION SELECT records.id FROM records JOIN wanted ON records.translation_of = wanted.id "
        "UNION SELECT records.supersedes FROM records JOIN wanted ON records.id = wanted.id "
        "WHERE records.supersedes IS NOT NULL "
        "UNION SELECT records.translation_of FROM records JOIN wanted ON records.id = wanted.id "
        "WHERE records.translation_of IS NOT NULL",
        [json.dumps(record_ids)],
    )
    return {str(row[0]) for row in rows}
