"""Versioned schema migrations.

Each migration is a function that takes the database and changes its schema; they run in
order, each in its own transaction, and ``schema_migrations`` remembers which ran. Later
features add a function at the end of :data:`MIGRATIONS`; a shipped migration never changes.
A database from a newer Rhizome (one with versions we do not know) is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlite_utils

from archive.errors import DatabaseError

Migration = Callable[[sqlite_utils.Database], None]


def m001_records(db: sqlite_utils.Database) -> None:
    """Records (signed bytes plus derived columns), their full-text index, the event log."""
    db.execute(
        """
        CREATE TABLE records (
            id TEXT PRIMARY KEY,
            envelope BLOB NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            summary TEXT NOT NULL,
            language TEXT NOT NULL,
            region TEXT NOT NULL,
            tags TEXT NOT NULL,
            sensitivity TEXT NOT NULL,
            scope TEXT NOT NULL,
            consent TEXT NOT NULL,
            origin TEXT NOT NULL,
            author TEXT NOT NULL,
            created INTEGER NOT NULL,
            supersedes TEXT,
            translation_of TEXT,
            received_from TEXT,
            stored_at INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX records_by_created ON records (created, id)")
    db.execute("CREATE INDEX records_by_supersedes ON records (supersedes)")
    db.execute("CREATE INDEX records_by_translation ON records (translation_of)")
    # The index keeps its own copy of the text (no external content): purging a record is
    # then one DELETE here, with nothing left in a content table we might forget.
    db.execute(
        """
        CREATE VIRTUAL TABLE records_fts USING fts5(
            title, summary, body, tags,
            tokenize = "unicode61 remove_diacritics 2"
        )
        """
    )
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT,
            detail TEXT NOT NULL,
            prev BLOB NOT NULL,
            hash BLOB NOT NULL,
            signature BLOB NOT NULL
        )
        """
    )


def m002_federation(db: sqlite_utils.Database) -> None:
    """Peers, invites, the delivery ledger (who got which record) and strikes."""
    db.execute(
        """
        CREATE TABLE peers (
            node_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            region TEXT NOT NULL,
            url TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'removed')),
            added_at INTEGER NOT NULL,
            last_sync INTEGER,
            last_error TEXT,
            strikes INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute(
        """
        CREATE TABLE invites (
            invite_id BLOB PRIMARY KEY,
            secret BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            used_by TEXT
        )
        """
    )
    # One row per record, peer and direction: what revocation will walk to reach every holder.
    db.execute(
        """
        CREATE TABLE deliveries (
            record_id TEXT NOT NULL,
            peer_id TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
            at INTEGER NOT NULL,
            PRIMARY KEY (record_id, peer_id, direction)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX deliveries_by_peer ON deliveries (peer_id, direction)")
    db.execute(
        """
        CREATE TABLE strikes (
            id INTEGER PRIMARY KEY,
            peer_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            record_id TEXT
        )
        """
    )


def m003_governance(db: sqlite_utils.Database) -> None:
    """Members and their certified keys, approvals, the decision log, inbound quarantine."""
    db.execute(
        """
        CREATE TABLE members (
            name TEXT PRIMARY KEY,
            public_key BLOB NOT NULL,
            roles TEXT NOT NULL,
            certificate BLOB NOT NULL,
            added_at INTEGER NOT NULL,
            removed_at INTEGER,
            password_hash TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE approvals (
            record_id TEXT NOT NULL,
            member TEXT NOT NULL,
            at INTEGER NOT NULL,
            envelope BLOB NOT NULL,
            PRIMARY KEY (record_id, member)
        ) WITHOUT ROWID
        """
    )
    # Ids, peer ids, reason codes and the policy hash only: never content, never names of
    # participants. Hash-chained like the event log.
    db.execute(
        """
        CREATE TABLE decisions (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
            record_id TEXT NOT NULL,
            peer_id TEXT NOT NULL,
            allowed INTEGER NOT NULL,
            reasons TEXT NOT NULL,
            policy_hash TEXT NOT NULL,
            prev BLOB NOT NULL,
            hash BLOB NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX decisions_by_record ON decisions (record_id, peer_id)")
    # The last outcome logged per record, peer and direction: re-evaluating the same
    # decision every sync logs it again only when its outcome changes.
    db.execute(
        """
        CREATE TABLE decision_state (
            record_id TEXT NOT NULL,
            peer_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            outcome TEXT NOT NULL,
            PRIMARY KEY (record_id, peer_id, direction)
        ) WITHOUT ROWID
        """
    )
    db.execute("ALTER TABLE records ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE rejected_records (
            record_id TEXT PRIMARY KEY,
            peer_id TEXT,
            at INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )


def m004_revocation(db: sqlite_utils.Database) -> None:
    """Revocations (kept forever), the tombstones they leave, receipts and outboxes."""
    db.execute(
        """
        CREATE TABLE revocations (
            revocation_id TEXT PRIMARY KEY,
            envelope BLOB NOT NULL,
            origin TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            received_from TEXT,
            stored_at INTEGER NOT NULL,
            note TEXT
        )
        """
    )
    # One row per withdrawn record id: what beats every copy, on every path.
    db.execute(
        """
        CREATE TABLE tombstones (
            record_id TEXT NOT NULL,
            revocation_id TEXT NOT NULL REFERENCES revocations (revocation_id),
            PRIMARY KEY (record_id, revocation_id)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE receipts (
            revocation_id TEXT NOT NULL,
            holder TEXT NOT NULL,
            purged_at INTEGER NOT NULL,
            receipt_id TEXT NOT NULL UNIQUE,
            envelope BLOB NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (revocation_id, holder)
        ) WITHOUT ROWID
        """
    )
    # What still has to reach each peer: revocations (downstream, to holders) and receipts
    # (upstream, towards the origin). A row leaves the outbox when the peer confirms.
    db.execute(
        """
        CREATE TABLE outbox (
            kind TEXT NOT NULL CHECK (kind IN ('revocation', 'receipt')),
            item_id TEXT NOT NULL,
            peer_id TEXT NOT NULL,
            queued_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (kind, item_id, peer_id)
        ) WITHOUT ROWID
        """
    )


def m005_bundles(db: sqlite_utils.Database) -> None:
    """Bundles we exported, so ``--since`` can name an earlier bundle file."""
    db.execute(
        """
        CREATE TABLE bundles_sent (
            file_hash TEXT PRIMARY KEY,
            bundle_id TEXT NOT NULL,
            peer_id TEXT NOT NULL,
            created INTEGER NOT NULL,
            resume_seq INTEGER NOT NULL,
            records INTEGER NOT NULL
        )
        """
    )
    # Finding records by their arrival entry in the event log (what --since a bundle means).
    db.execute("CREATE INDEX events_by_subject ON events (subject)")


def m006_peer_exchanges(db: sqlite_utils.Database) -> None:
    """Each peer's last exchanges with us, both directions (federation.exchanges keeps 20)."""
    db.execute(
        """
        CREATE TABLE peer_exchanges (
            id INTEGER PRIMARY KEY,
            peer_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
            received INTEGER NOT NULL DEFAULT 0,
            sent INTEGER NOT NULL DEFAULT 0,
            error TEXT
        )
        """
    )
    db.execute("CREATE INDEX peer_exchanges_by_peer ON peer_exchanges (peer_id, direction, id)")


def m007_policy_bindings(db: sqlite_utils.Database) -> None:
    """Which node a ``[peers."NAME"]`` policy section means, as the operator confirmed it
    (governance.policy_binding): a name is a label, the node id is what policy follows."""
    db.execute(
        """
        CREATE TABLE policy_bindings (
            label TEXT PRIMARY KEY COLLATE NOCASE,
            node_id TEXT NOT NULL,
            bound_at INTEGER NOT NULL
        )
        """
    )


def m008_purge_pending(db: sqlite_utils.Database) -> None:
    """Purges committed but not yet scrubbed from the disk (archive.purge redoes them)."""
    db.execute(
        "CREATE TABLE purge_pending (revocation_id TEXT PRIMARY KEY, since INTEGER NOT NULL)"
    )


def m009_acknowledged_outbox(db: sqlite_utils.Database) -> None:
    """Outbox items live until the peer acknowledges them (federation.outbox_state), the
    signed requests we accepted are remembered across restarts (federation.replay_memory),
    and copies of withdrawn records seen after a receipt are kept as evidence
    (federation.copies)."""
    db.execute(
        "ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'queued' "
        "CHECK (state IN ('queued', 'sent'))"
    )
    db.execute("ALTER TABLE outbox ADD COLUMN last_attempt_at INTEGER")
    db.execute("ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE seen_signatures (
            signature BLOB PRIMARY KEY,
            created INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX seen_signatures_by_created ON seen_signatures (created)")
    db.execute(
        """
        CREATE TABLE copies_seen (
            revocation_id TEXT NOT NULL,
            holder TEXT NOT NULL,
            record_id TEXT NOT NULL,
            seen_at INTEGER NOT NULL,
            how TEXT NOT NULL,
            contradicts TEXT,
            PRIMARY KEY (revocation_id, holder, record_id)
        ) WITHOUT ROWID
        """
    )


def m010_derived_tombstones(db: sqlite_utils.Database) -> None:
    """Tombstones of translations and versions purged with the record they derive from:
    bound to their own origin (``derived_origin``), not the revocation's (archive.derivation)."""
    db.execute("ALTER TABLE tombstones ADD COLUMN derived_origin TEXT")


def m011_lesson_sources(db: sqlite_utils.Database) -> None:
    """Where our own lessons came from, so the same lesson added twice is stored once.

    Each row holds keyed fingerprints (HMAC with a random per-archive key, so they match
    nothing outside this database): of the lesson's content, of the file's path and of its
    file name with title and author. Rows outlive a purge on purpose: they are ids, not
    text, and they keep a withdrawn lesson's file from being imported again.
    """
    db.execute(
        """
        CREATE TABLE lesson_sources (
            content_key BLOB PRIMARY KEY,
            record_id TEXT NOT NULL,
            path_key BLOB,
            name_key BLOB,
            stored_at INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX lesson_sources_by_path ON lesson_sources (path_key)")
    db.execute("CREATE INDEX lesson_sources_by_name ON lesson_sources (name_key)")
    db.execute("CREATE TABLE lesson_source_key (key BLOB NOT NULL)")
    db.execute("INSERT INTO lesson_source_key (key) VALUES (randomblob(32))")


def m012_peer_quotas(db: sqlite_utils.Database) -> None:
    """What each peer made us store: this period's intake, and what we hold from it (kept
    exact by triggers on every insert, delete and quarantine change of a record)."""
    db.execute(
        """
        CREATE TABLE peer_intake (
            peer_id TEXT PRIMARY KEY,
            period_start INTEGER NOT NULL,
            records INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            refused_until INTEGER NOT NULL,
            struck INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE peer_holdings (
            peer_id TEXT PRIMARY KEY,
            records INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            quarantined INTEGER NOT NULL,
            quarantined_bytes INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        INSERT INTO peer_holdings
        SELECT received_from, count(*), sum(length(envelope)), sum(quarantined),
               sum(quarantined * length(envelope))
        FROM records WHERE received_from IS NOT NULL GROUP BY received_from
        """
    )
    db.execute(
        """
        CREATE TRIGGER peer_holdings_on_insert AFTER INSERT ON records
        WHEN NEW.received_from IS NOT NULL
        BEGIN
            INSERT INTO peer_holdings VALUES (NEW.received_from, 1, length(NEW.envelope),
                NEW.quarantined, NEW.quarantined * length(NEW.envelope))
            ON CONFLICT (peer_id) DO UPDATE SET records = records + 1,
                bytes = bytes + excluded.bytes, quarantined = quarantined + excluded.quarantined,
                quarantined_bytes = quarantined_bytes + excluded.quarantined_bytes;
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER peer_holdings_on_delete AFTER DELETE ON records
        WHEN OLD.received_from IS NOT NULL
        BEGIN
            UPDATE peer_holdings SET records = records - 1,
                bytes = bytes - length(OLD.envelope), quarantined = quarantined - OLD.quarantined,
                quarantined_bytes = quarantined_bytes - OLD.quarantined * length(OLD.envelope)
            WHERE peer_id = OLD.received_from;
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER peer_holdings_on_update AFTER UPDATE OF quarantined, envelope,
            received_from ON records
        BEGIN
            UPDATE peer_holdings SET records = records - 1,
                bytes = bytes - length(OLD.envelope), quarantined = quarantined - OLD.quarantined,
                quarantined_bytes = quarantined_bytes - OLD.quarantined * length(OLD.envelope)
            WHERE peer_id = OLD.received_from;
            INSERT INTO peer_holdings SELECT NEW.received_from, 1, length(NEW.envelope),
                NEW.quarantined, NEW.quarantined * length(NEW.envelope)
            WHERE NEW.received_from IS NOT NULL
            ON CONFLICT (peer_id) DO UPDATE SET records = records + 1,
                bytes = bytes + excluded.bytes, quarantined = quarantined + excluded.quarantined,
                quarantined_bytes = quarantined_bytes + excluded.quarantined_bytes;
        END
        """
    )


MIGRATIONS: list[Migration] = [
    m001_records,
    m002_federation,
    m003_governance,
    m004_revocation,
    m005_bundles,
    m006_peer_exchanges,
    m007_policy_bindings,
    m008_purge_pending,
    m009_acknowledged_outbox,
    m010_derived_tombstones,
    m011_lesson_sources,
    m012_peer_quotas,
]


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; refuse a database from a newer release."""
    if "schema_migrations" not in db.table_names():
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise DatabaseError(
            f"{db.conn.execute('PRAGMA database_list').fetchone()[2]}: the database has schema "
            f"version {current}, newer than this Rhizome knows "
            f"({len(MIGRATIONS)}): upgrade Rhizome"
        )
    for version, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(db) < version:  # another process may have just done it
                migration(db)
                db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [version, migration.__name__, int(time.time())],
                )
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")
