"""What keeps every read of a large archive indexed: archive's migrations m014 to m016.

Listing a million lessons must not cost a scan per request, so the facts a listing asks for
are stored and kept up to date as records are written, not computed when read:

- ``records.latest``: 1 while no newer version of the same origin is stored (what
  :data:`archive.queries.LATEST` used to find with a ``NOT EXISTS`` over every version).
- ``listed_counts``: how many lessons the list shows, in all and per kind, language,
  region, consent scope and tag.
- ``records.expires_at``: the earliest consent expiry in the record (its own or one
  participant's), so the expiry check reads an index instead of every consent block.

Triggers on ``records`` keep the first two exact on every write (insert, purge, quarantine
release), whichever path made it: storing a lesson, receiving one, a bundle, a purge. The
third is derived from the signed record by :func:`archive.store.derived_columns` like every
readable column, and ``rhizome verify`` checks it.
"""

from __future__ import annotations

import sqlite_utils

# A record the list shows: the newest version, not waiting in quarantine. The partial
# indexes below carry the same condition, so a query must spell it exactly like this.
LISTED = "latest = 1 AND quarantined = 0"
COUNTED_FACETS = ("kind", "language", "region", "scope")


def _count_change(row: str, delta: str, when: str = "true") -> str:
    """Statements adding ``delta`` to the counts of ``row`` (NEW or OLD) when ``when``
    holds: all, each facet and each of its tags (a tag listed twice counts once, as the tag
    filter does)."""
    counted = " UNION ALL ".join(
        [f"SELECT 'all', '', {delta}"]
        + [f"SELECT '{facet}', {row}.{facet}, {delta}" for facet in COUNTED_FACETS]
    )
    upsert = "ON CONFLICT (facet, value) DO UPDATE SET lessons = lessons + excluded.lessons"
    return f"""
        INSERT INTO listed_counts (facet, value, lessons)
        SELECT * FROM ({counted}) WHERE {when} {upsert};
        INSERT INTO listed_counts (facet, value, lessons)
        SELECT DISTINCT 'tag', value, {delta} FROM json_each({row}.tags) WHERE {when} {upsert};
    """


_TRIGGERS = (
    # A new record: counted if it shows; then it hides the version it supersedes (same
    # origin only, as archive.derivation.may_supersede_origin rules), and it hides itself
    # when a newer version of it arrived first (a peer may send versions in any order).
    f"""
    CREATE TRIGGER records_listing_on_insert AFTER INSERT ON records BEGIN
        {_count_change("NEW", "1", "NEW.latest = 1 AND NEW.quarantined = 0")}
        UPDATE records SET latest = 0 WHERE rowid = NEW.rowid AND latest = 1 AND EXISTS (
            SELECT 1 FROM records AS newer
            WHERE newer.supersedes = NEW.id AND newer.origin = NEW.origin);
        UPDATE records SET latest = 0
        WHERE id = NEW.supersedes AND origin = NEW.origin AND latest = 1;
    END
    """,
    # A purged record: uncounted; the version it superseded shows again unless another
    # newer version of it is still here.
    f"""
    CREATE TRIGGER records_listing_on_delete AFTER DELETE ON records BEGIN
        {_count_change("OLD", "-1", "OLD.latest = 1 AND OLD.quarantined = 0")}
        UPDATE records SET latest = 1
        WHERE id = OLD.supersedes AND origin = OLD.origin AND latest = 0 AND NOT EXISTS (
            SELECT 1 FROM records AS newer
            WHERE newer.supersedes = records.id AND newer.origin = records.origin);
    END
    """,
    # Shown or hidden by a flag (a newer version, a release from quarantine).
    f"""
    CREATE TRIGGER records_listing_on_show AFTER UPDATE OF latest, quarantined ON records
    WHEN NOT (OLD.latest = 1 AND OLD.quarantined = 0) AND (NEW.latest = 1 AND NEW.quarantined = 0)
    BEGIN {_count_change("NEW", "1")} END
    """,
    f"""
    CREATE TRIGGER records_listing_on_hide AFTER UPDATE OF latest, quarantined ON records
    WHEN (OLD.latest = 1 AND OLD.quarantined = 0) AND NOT (NEW.latest = 1 AND NEW.quarantined = 0)
    BEGIN {_count_change("OLD", "-1")} END
    """,
)


def m014_latest_flag_and_counts(db: sqlite_utils.Database) -> None:
    """``records.latest``, the index of what the list shows (newest first, whole and by
    consent scope for public readers), ``listed_counts`` and the triggers keeping them."""
    db.execute("ALTER TABLE records ADD COLUMN latest INTEGER NOT NULL DEFAULT 1")
    db.execute(
        "UPDATE records SET latest = 0 WHERE EXISTS (SELECT 1 FROM records AS newer "
        "WHERE newer.supersedes = records.id AND newer.origin = records.origin)"
    )
    db.execute(f"CREATE INDEX records_listed ON records (created, id) WHERE {LISTED}")
    db.execute(
        f"CREATE INDEX records_listed_by_scope ON records (scope, created, id) WHERE {LISTED}"
    )
    db.execute(
        """
        CREATE TABLE listed_counts (
            facet TEXT NOT NULL,
            value TEXT NOT NULL,
            lessons INTEGER NOT NULL,
            PRIMARY KEY (facet, value)
        ) WITHOUT ROWID
        """
    )
    db.execute(f"INSERT INTO listed_counts SELECT 'all', '', count(*) FROM records WHERE {LISTED}")
    for facet in COUNTED_FACETS:
        db.execute(
            f"INSERT INTO listed_counts SELECT '{facet}', {facet}, count(*) FROM records "
            f"WHERE {LISTED} GROUP BY {facet}"
        )
    db.execute(
        "INSERT INTO listed_counts SELECT 'tag', tag.value, count(DISTINCT records.rowid) "
        f"FROM records, json_each(records.tags) AS tag WHERE {LISTED} GROUP BY tag.value"
    )
    for trigger in _TRIGGERS:
        db.execute(trigger)


# The earliest expiry in a consent block (JSON): its own or any participant's.
EARLIEST_EXPIRY_SQL = (
    "(SELECT min(expiry) FROM (SELECT json_extract(consent, '$.expires') AS expiry "
    "UNION ALL SELECT json_extract(subject.value, '$.expires') "
    "FROM json_each(consent, '$.subjects') AS subject) WHERE expiry IS NOT NULL)"
)


def m015_expires_at(db: sqlite_utils.Database) -> None:
    """``records.expires_at`` and its index by origin (the expiry check reads only ours)."""
    db.execute("ALTER TABLE records ADD COLUMN expires_at INTEGER")
    # Only rows with an expiry are written: rewriting every row of a large archive would
    # copy all of it through the write-ahead log.
    db.execute(
        f"UPDATE records SET expires_at = {EARLIEST_EXPIRY_SQL} "
        f"WHERE {EARLIEST_EXPIRY_SQL} IS NOT NULL"
    )
    db.execute(
        "CREATE INDEX records_by_expiry ON records (origin, expires_at) "
        "WHERE expires_at IS NOT NULL"
    )


def m016_quarantine_index(db: sqlite_utils.Database) -> None:
    """The records waiting in quarantine, found and counted without reading the others."""
    db.execute("CREATE INDEX records_quarantined ON records (stored_at) WHERE quarantined = 1")
