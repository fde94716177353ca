"""Reading an exchange's own work: collection items, follow-ups due, evaluations.

Each query reads an index made for it (archive/exchange_schema.py) and stops at a limit, so
a home page or a collection page costs the same with a thousand lessons or a million.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlite_utils

from archive.details import CollectionItem, item_ref
from archive.queries import LATEST
from archive.signed_record import SignedRecord, open_record

MAX_LISTED = 500


def find_item(db: sqlite_utils.Database, item: CollectionItem) -> str | None:
    """The id of the lesson a collection item commits to, if this archive holds it (shown
    or not: the caller decides what a reader may see). One index range of the id prefix."""
    rows = db.execute(
        "SELECT id FROM records WHERE id >= ? AND id < ?", [item.hint, item.hint + "g"]
    ).fetchall()
    for (record_id,) in rows:
        if item_ref(bytes.fromhex(record_id)) == item.ref:
            return str(record_id)
    return None


def record_scope(db: sqlite_utils.Database, record_id: str) -> str | None:
    row = db.execute("SELECT scope FROM records WHERE id = ?", [record_id]).fetchone()
    return None if row is None else str(row[0])


def is_listed(db: sqlite_utils.Database, record_id: str) -> bool:
    """Whether a reader of this node sees the record: stored, newest, out of quarantine."""
    row = db.execute(f"SELECT 1 FROM records WHERE id = ? AND {LATEST}", [record_id]).fetchone()
    return row is not None


def latest_of_kind(
    db: sqlite_utils.Database, kind: str, limit: int = MAX_LISTED
) -> Iterator[SignedRecord]:
    """The newest versions of the collections or evaluations here, newest first."""
    if kind not in ("collection", "evaluation"):
        raise ValueError(f"{kind} has no index of its own")
    rows = db.execute(
        f"SELECT envelope FROM records WHERE kind = '{kind}' AND {LATEST} "
        "ORDER BY created DESC LIMIT ?",
        [limit],
    )
    for (envelope,) in rows:
        yield open_record(envelope)


# Reads the partial index of open dates (archive m047), however many lessons there are.
DUE_SQL = (
    "SELECT id, title, next_due FROM records WHERE next_due IS NOT NULL AND next_due <= ? "
    f"AND origin = ? AND {LATEST} ORDER BY next_due LIMIT ?"
)


@dataclass(frozen=True)
class DueBrief:
    record_id: str
    title: str
    next_due: int


def due_follow_ups(
    db: sqlite_utils.Database, origin: str, until: int, limit: int = 20
) -> list[DueBrief]:
    """This node's action briefs with a follow-up or milestone open by ``until``, soonest
    first: read from the partial index of ``next_due``, newest versions only."""
    rows = db.execute(DUE_SQL, [until, origin, limit]).fetchall()
    return [DueBrief(str(row[0]), str(row[1]), int(row[2])) for row in rows]
