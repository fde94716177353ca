"""Reading the archive: ids, listings, one record with its history and translations."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from archive.errors import AmbiguousRecordId, InvalidRecordId, UnknownRecord
from archive.key_store import record_key_check
from archive.signed_record import SignedRecord, open_record
from crypto.errors import N_

MIN_PREFIX = 4
COUNT_CAP = 10_000  # two or more list filters are counted up to this many
_HEX = re.compile(r"^[0-9a-f]+$")
SUMMARY_COLUMNS = (
    "id, kind, title, summary, language, region, tags, sensitivity, scope, origin, author, "
    "created, supersedes, translation_of, received_from"
)
# What list and search show: the newest version (no other record of the same origin
# supersedes it: archive.derivation.may_supersede_origin; a peer's record naming another
# origin's lesson in ``supersedes`` never hides it), and only once a curator has let it out
# of quarantine. ``latest`` is kept exact by triggers on every write
# (archive/listing_schema.py); the partial indexes of the list carry this same condition.
LATEST = "records.latest = 1 AND records.quarantined = 0"


@dataclass(frozen=True)
class RecordFilters:
    """Narrow a listing or a search to one kind, language, region, tag or consent scope
    (``scope="public"``: what a reader who has not signed in may see)."""

    kind: str | None = None
    language: str | None = None
    region: str | None = None
    tag: str | None = None
    scope: str | None = None

    def sql(self) -> tuple[list[str], list[str]]:
        """WHERE conditions on ``records`` and their parameters."""
        conditions, params = [], []
        for column in ("kind", "language", "region", "scope"):
            value = getattr(self, column)
            if value:
                conditions.append(f"records.{column} = ?")
                params.append(value)
        if self.tag:
            conditions.append("EXISTS (SELECT 1 FROM json_each(records.tags) WHERE value = ?)")
            params.append(self.tag.lower())
        return conditions, params

    def facets(self) -> list[tuple[str, str]]:
        """(facet, value) of each filter given, as ``listed_counts`` keys them."""
        given = [
            (column, getattr(self, column))
            for column in ("kind", "language", "region", "scope")
            if getattr(self, column)
        ]
        return given + ([("tag", self.tag.lower())] if self.tag else [])


@dataclass(frozen=True)
class RecordSummary:
    """The readable columns of one stored record."""

    id: str
    kind: str
    title: str
    summary: str
    language: str
    region: str
    tags: list[str]
    sensitivity: str
    scope: str
    origin: str
    author: str
    created: int
    supersedes: str | None
    translation_of: str | None
    received_from: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RecordSummary:
        values = list(row)
        values[6] = json.loads(values[6])
        return cls(*values)


def resolve_record_id(db: sqlite_utils.Database, text: str) -> str:
    """The full id for a full id or a unique prefix of at least four hex characters."""
    prefix = text.strip().lower()
    if len(prefix) < MIN_PREFIX or not _HEX.match(prefix):
        raise InvalidRecordId.worded(
            N_("{text} is not a record id (use at least {count} hex characters)"),
            text=repr(text),
            count=MIN_PREFIX,
        )
    rows = db.execute(
        "SELECT id FROM records WHERE id >= ? AND id < ? LIMIT 2", [prefix, prefix + "g"]
    ).fetchall()
    if not rows:
        raise UnknownRecord.worded(N_("no record {id} in this archive"), id=prefix)
    if len(rows) > 1:
        raise AmbiguousRecordId.worded(
            N_("several records start with {id}: type more of the id"), id=prefix
        )
    return str(rows[0][0])


def record_summary(db: sqlite_utils.Database, record_id: str) -> RecordSummary:
    row = db.execute(f"SELECT {SUMMARY_COLUMNS} FROM records WHERE id = ?", [record_id]).fetchone()
    if row is None:
        raise UnknownRecord.worded(N_("no record {id} in this archive"), id=record_id[:12])
    return RecordSummary.from_row(row)


def load_record(db: sqlite_utils.Database, record_id: str) -> SignedRecord:
    """The signed record, verified again as it is read."""
    row = db.execute("SELECT envelope FROM records WHERE id = ?", [record_id]).fetchone()
    if row is None:
        raise UnknownRecord.worded(N_("no record {id} in this archive"), id=record_id[:12])
    return open_record(row[0], f"record {record_id[:12]}", record_key_check(db))


def latest_records(
    db: sqlite_utils.Database,
    limit: int | None = None,
    offset: int = 0,
    filters: RecordFilters | None = None,
) -> list[RecordSummary]:
    """Newest versions only, most recent first."""
    conditions, params = (filters or RecordFilters()).sql()
    where = " AND ".join([LATEST, *conditions])
    rows = db.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM records WHERE {where} "
        "ORDER BY created DESC, id DESC LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    )
    return [RecordSummary.from_row(row) for row in rows]


def latest_of_origin(
    db: sqlite_utils.Database, origin: str, sensitivities: list[str], limit: int
) -> list[tuple[RecordSummary, str]]:
    """(summary, consent JSON) of ``origin``'s newest versions at these sensitivities, most
    recent first (the approval queue's candidates)."""
    marks = ", ".join("?" for _ in sensitivities)
    rows = db.execute(
        f"SELECT {SUMMARY_COLUMNS}, consent FROM records "
        f"WHERE origin = ? AND sensitivity IN ({marks}) AND {LATEST} "
        "ORDER BY created DESC LIMIT ?",
        [origin, *sensitivities, limit],
    )
    return [(RecordSummary.from_row(row[:-1]), str(row[-1])) for row in rows]


def count_records(
    db: sqlite_utils.Database, latest_only: bool = False, filters: RecordFilters | None = None
) -> int:
    """How many records are stored, or (``latest_only``) how many the list shows."""
    if latest_only:
        return count_listed(db, filters)[0]
    conditions, params = (filters or RecordFilters()).sql()
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return int(db.execute(f"SELECT count(*) FROM records {where}", params).fetchone()[0])


def count_listed(
    db: sqlite_utils.Database, filters: RecordFilters | None = None
) -> tuple[int, bool]:
    """(how many lessons the list holds with these filters, whether that is exact)."""
    filters = filters or RecordFilters()
    facets = filters.facets()
    if len(facets) <= 1:
        facet, value = facets[0] if facets else ("all", "")
        row = db.execute(
            "SELECT lessons FROM listed_counts WHERE facet = ? AND value = ?", [facet, value]
        ).fetchone()
        return (int(row[0]) if row else 0), True
    conditions, params = filters.sql()
    where = " AND ".join([LATEST, *conditions])
    counted = db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM records WHERE {where} LIMIT ?)",
        [*params, COUNT_CAP + 1],
    ).fetchone()[0]
    return min(int(counted), COUNT_CAP), int(counted) <= COUNT_CAP


def history(db: sqlite_utils.Database, record_id: str) -> list[RecordSummary]:
    """Every version of the lesson ``record_id`` belongs to, oldest first."""
    oldest = record_id
    seen = {oldest}
    while (previous := _one(db, "SELECT supersedes FROM records WHERE id = ?", oldest)) and (
        previous not in seen
    ):
        if not _one(db, _SAME_ORIGIN.format("id = ?"), previous, oldest):
            break  # an older version we never received, or another origin's lesson
        seen.add(previous)
        oldest = previous
    return list(_versions_from(db, oldest))


def _versions_from(db: sqlite_utils.Database, first: str) -> Iterator[RecordSummary]:
    current: str | None = first
    seen: set[str] = set()
    while current and current not in seen:
        seen.add(current)
        yield record_summary(db, current)
        current = _one(
            db, _SAME_ORIGIN.format("supersedes = ?") + " ORDER BY created", current, current
        )


# A version link counts only between records of the same origin (the second parameter is
# the id of the record the link starts from).
_SAME_ORIGIN = (
    "SELECT id FROM records WHERE {} AND origin = (SELECT origin FROM records AS linked "
    "WHERE linked.id = ?)"
)


def translations(db: sqlite_utils.Database, record_id: str) -> list[RecordSummary]:
    """The other language versions linked to this record (through ``translation_of``)."""
    original = _one(db, "SELECT translation_of FROM records WHERE id = ?", record_id) or record_id
    rows = db.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM records WHERE (id = ? OR translation_of = ?) AND id != ? "
        "ORDER BY language",
        [original, original, record_id],
    )
    return [RecordSummary.from_row(row) for row in rows]


def _one(db: sqlite_utils.Database, sql: str, *values: str) -> str | None:
    row = db.execute(sql, list(values)).fetchone()
    return None if row is None else row[0]


def lineage(db: sqlite_utils.Database, record_id: str) -> list[str]:
    """Every record linked to ``record_id`` by versions or translations, in any direction,
    as far as the links go (what a revocation must cover)."""
    found = {record_id}
    frontier = [record_id]
    while frontier:
        current = frontier.pop()
        rows = db.execute(
            "SELECT supersedes, translation_of FROM records WHERE id = ? "
            "UNION ALL SELECT id, NULL FROM records WHERE supersedes = ? OR translation_of = ?",
            [current, current, current],
        )
        for row in rows:
            for linked in row:
                if linked and linked not in found:
                    found.add(linked)
                    frontier.append(linked)
    return sorted(found)
