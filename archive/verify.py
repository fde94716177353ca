"""``rhizome verify``: re-check everything the archive claims.

For every record: its signature, that its id is the hash of its signed bytes, that it was
signed by the origin it names, that its readable columns and its search-index entry still
say what the signed bytes say. Then the whole event-log chain. Each problem names the item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlite_utils

from archive.event_log import chain_problems
from archive.key_store import keys_of, record_key_check
from archive.signed_record import open_record
from archive.store import DERIVED_COLUMNS, derived_columns, search_columns
from crypto.errors import RhizomeError
from crypto.node_id import node_id_from_public_key

Progress = Callable[[int], None]
# Every stored record arrived through one of these events; a record without one means
# log entries were removed.
ARRIVAL_EVENTS = ("record.added", "record.received", "record.refetched")  # refetched: recovered
# Besides a tombstone, a stored record leaves only by a curator's rejection from quarantine
# (governance.quarantine), which the (verified) log tells as ``record.rejected``.


@dataclass
class VerifyReport:
    records_checked: int = 0
    events_checked: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def record_problems(
    db: sqlite_utils.Database, progress: Progress | None = None
) -> Iterator[tuple[str, str]]:
    """(record id, problem) for each record that does not match its signed bytes."""
    derived = ", ".join(f"records.{name}" for name in DERIVED_COLUMNS)
    indexed = "records_fts.title, records_fts.summary, records_fts.body, records_fts.tags"
    rows = db.execute(
        f"SELECT records.rowid, records.id, records.envelope, {derived}, {indexed} "
        "FROM records LEFT JOIN records_fts ON records_fts.rowid = records.rowid"
    )
    keys = record_key_check(db)  # a later key of the origin's history may have signed it
    for row in rows:
        record_id = row[1]
        if progress:
            progress(1)
        try:
            record = open_record(row[2], f"record {record_id[:12]}", keys)
        except RhizomeError as error:
            yield record_id, f"signed bytes do not verify ({error})"
            continue
        if record.id_hex != record_id:
            yield record_id, "stored id is not the hash of its signed bytes"
        split = 3 + len(DERIVED_COLUMNS)
        stored = dict(zip(DERIVED_COLUMNS, row[3:split], strict=True))
        for name, value in derived_columns(record).items():
            if stored[name] != value:
                yield record_id, f"column '{name}' differs from the signed record"
        if tuple(row[split:]) != search_columns(record.lesson):
            yield record_id, "search index entry differs from the signed record"


def verify_archive(
    db: sqlite_utils.Database, node_key: bytes, progress: Progress | None = None
) -> VerifyReport:
    report = VerifyReport()
    report.records_checked = int(db.execute("SELECT count(*) FROM records").fetchone()[0])
    report.events_checked = int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    for record_id, problem in record_problems(db, progress):
        report.problems.append({"item": f"record {record_id}", "problem": problem})
    later_keys = keys_of(db, node_id_from_public_key(node_key))
    for problem in chain_problems(db, node_key, later_keys):
        item, _, text = problem.partition(": ")
        report.problems.append({"item": item, "problem": text})
    for (record_id,) in db.execute(
        "SELECT id FROM records WHERE id NOT IN (SELECT subject FROM events "
        f"WHERE kind IN ({', '.join('?' for _ in ARRIVAL_EVENTS)}) AND subject IS NOT NULL)",
        list(ARRIVAL_EVENTS),
    ):
        report.problems.append(
            {"item": f"record {record_id}", "problem": "no event-log entry records its arrival"}
        )
    for (record_id,) in db.execute(
        "SELECT DISTINCT subject FROM events WHERE kind IN "
        f"({', '.join('?' for _ in ARRIVAL_EVENTS)}) AND subject NOT IN (SELECT id FROM records) "
        "AND subject NOT IN (SELECT record_id FROM tombstones) "
        "AND subject NOT IN (SELECT subject FROM events WHERE kind = 'record.rejected')",
        list(ARRIVAL_EVENTS),
    ):
        report.problems.append(
            {
                "item": f"record {record_id}",
                "problem": "logged as stored, but missing from the archive",
            }
        )
    orphans = db.execute(
        "SELECT count(*) FROM records_fts WHERE rowid NOT IN (SELECT rowid FROM records)"
    ).fetchone()[0]
    if orphans:
        report.problems.append(
            {"item": "search index", "problem": f"{orphans} entries with no record"}
        )
    return report
