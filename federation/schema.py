"""Federation's tables and their migrations (run by :mod:`archive.migrations`).

A new migration is a function added at the end, decorated with ``@MIGRATIONS()``; a shipped
one never changes (naming: see :mod:`archive.schema`).

The triggers of m012 live on archive's ``records`` but write only federation's
``peer_holdings``: what we hold from each peer stays exact in the same transaction as every
insert, delete and quarantine change of a record, whichever package makes it, without
archive knowing quotas exist. They (and m012's backfill) are federation's only reads of
another package's table in SQL, declared in :data:`FOREIGN_READS`.
"""

from __future__ import annotations

import sqlite_utils

from archive.migrations import Schema
from federation.attachment_schema import m043_peer_purposes, m065_declared_purposes
from federation.gone_schema import m026_gone_peers_and_relearning
from federation.key_schema import (
    m028_forked_peers,
    m080_own_records_pending,
    m081_member_notices,
)

MIGRATIONS = sqlite_utils.Migrations("federation")
TABLES = frozenset(
    {
        "peers",
        "invites",
        "deliveries",
        "strikes",
        "receipts",
        "outbox",
        "bundles_sent",
        "peer_exchanges",
        "seen_signatures",
        "copies_seen",
        "peer_intake",
        "peer_holdings",
        "relearn_pending",
        "own_records_pending",
        "member_notices",
        "member_notices_told",
        "offer_changes",
        "offer_changes_pruned",
        "own_purposes",
    }
)
FOREIGN_READS = {
    "records": "m012's peer_holdings triggers (AFTER INSERT/DELETE/UPDATE ON records) and "
    "backfill; m021's offer_changes triggers (federation/offer_changes.py)",
    "approvals": "m021's offer_changes triggers: an approval changes what may leave",
    "members": "m021's offer_changes triggers: a member's roles decide whether approvals count",
}


@MIGRATIONS()
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


@MIGRATIONS()
def m004_receipts_outbox(db: sqlite_utils.Database) -> None:
    """Receipts of purges and the outbox of what still has to reach each peer."""
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


@MIGRATIONS()
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


@MIGRATIONS()
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


@MIGRATIONS()
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


@MIGRATIONS()
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


MIGRATIONS()(m026_gone_peers_and_relearning)  # its own module: federation/gone_schema.py

# What changed since an offer set was kept (federation/offer_changes.py): the triggers name
# the record whose facts changed, in the same transaction, whichever package made the change.
_OFFER_CHANGE_TRIGGERS = {
    "offer_changes_on_record_insert": """
        AFTER INSERT ON records BEGIN
            INSERT INTO offer_changes (record_id, created) VALUES (NEW.id, NEW.created);
        END""",
    "offer_changes_on_record_delete": """
        AFTER DELETE ON records BEGIN
            INSERT INTO offer_changes (record_id, created) VALUES (OLD.id, OLD.created);
            INSERT INTO offer_changes (record_id, created)
                SELECT OLD.supersedes, NULL WHERE OLD.supersedes IS NOT NULL;
            INSERT INTO offer_changes (record_id, created)
                SELECT OLD.translation_of, NULL WHERE OLD.translation_of IS NOT NULL;
        END""",
    "offer_changes_on_record_update": """
        AFTER UPDATE OF quarantined ON records BEGIN
            INSERT INTO offer_changes (record_id, created) VALUES (NEW.id, NEW.created);
        END""",
    "offer_changes_on_approval_insert": """
        AFTER INSERT ON approvals BEGIN
            INSERT INTO offer_changes (record_id) VALUES (NEW.record_id);
        END""",
    "offer_changes_on_approval_update": """
        AFTER UPDATE ON approvals BEGIN
            INSERT INTO offer_changes (record_id) VALUES (OLD.record_id);
            INSERT INTO offer_changes (record_id) VALUES (NEW.record_id);
        END""",
    "offer_changes_on_approval_delete": """
        AFTER DELETE ON approvals BEGIN
            INSERT INTO offer_changes (record_id) VALUES (OLD.record_id);
        END""",
    "offer_changes_on_member_insert": """
        AFTER INSERT ON members BEGIN
            INSERT INTO offer_changes (record_id) VALUES (NULL);
        END""",
    "offer_changes_on_member_update": """
        AFTER UPDATE OF roles, removed_at, public_key, name ON members BEGIN
            INSERT INTO offer_changes (record_id) VALUES (NULL);
        END""",
    "offer_changes_on_member_delete": """
        AFTER DELETE ON members BEGIN
            INSERT INTO offer_changes (record_id) VALUES (NULL);
        END""",
    "offer_changes_on_delivery_insert": """
        AFTER INSERT ON deliveries BEGIN
            INSERT INTO offer_changes (record_id) VALUES (NEW.record_id);
        END""",
}


@MIGRATIONS()
def m021_offer_changes(db: sqlite_utils.Database) -> None:
    """The change feed of kept offer sets (federation/offer_changes.py) and its triggers."""
    db.execute(
        """
        CREATE TABLE offer_changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id TEXT,
            created INTEGER
        )
        """
    )
    db.execute(
        "CREATE TABLE offer_changes_pruned (one INTEGER PRIMARY KEY CHECK (one = 1), "
        "up_to INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO offer_changes_pruned VALUES (1, 0)")
    for name, body in _OFFER_CHANGE_TRIGGERS.items():
        db.execute(f"CREATE TRIGGER {name} {body}")


MIGRATIONS()(m043_peer_purposes)  # attachments: federation/attachment_schema.py
MIGRATIONS()(m028_forked_peers)  # key histories: federation/key_schema.py
MIGRATIONS()(m080_own_records_pending)  # recovery with no backup: federation/key_schema.py
MIGRATIONS()(m081_member_notices)  # members compromised, told to peers: the same module
MIGRATIONS()(m065_declared_purposes)  # declared purposes: federation/attachment_schema.py
SCHEMA = Schema("federation", MIGRATIONS, TABLES, foreign_reads=FOREIGN_READS)
