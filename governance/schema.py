"""Governance's tables and their migrations (run by :mod:`archive.migrations`).

A new migration is a function added at the end, decorated with ``@MIGRATIONS()``; a shipped
one never changes (naming: see :mod:`archive.schema`). The purge of a record reaches the
approvals and per-record decision state through :func:`forget_record`, a purge hook.
"""

from __future__ import annotations

import sqlite_utils

from archive.migrations import Schema
from governance.member_key_schema import m032_member_key_compromise
from governance.member_language import m046_member_language

MIGRATIONS = sqlite_utils.Migrations("governance")
TABLES = frozenset(
    {
        "members",
        "approvals",
        "decisions",
        "decision_state",
        "rejected_records",
        "policy_bindings",
        "member_tokens",
    }
)


@MIGRATIONS()
def m003_governance(db: sqlite_utils.Database) -> None:
    """Members and their certified keys, approvals, the decision log, rejected records (the
    quarantine flag itself is a column of archive's ``records``)."""
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
    db.execute(
        """
        CREATE TABLE rejected_records (
            record_id TEXT PRIMARY KEY,
            peer_id TEXT,
            at INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )


@MIGRATIONS()
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


@MIGRATIONS()
def m013_member_sessions_and_tokens(db: sqlite_utils.Database) -> None:
    """A member's session epoch (bumped when the password changes: every session signed in
    before ends) and members' API tokens, kept only as keyed hashes (governance.member_tokens)."""
    db.execute("ALTER TABLE members ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE member_tokens (
            id TEXT PRIMARY KEY,
            member TEXT NOT NULL,
            label TEXT NOT NULL,
            digest BLOB NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        )
        """
    )


MIGRATIONS()(m046_member_language)
MIGRATIONS()(m032_member_key_compromise)  # governance/member_key_schema.py


def forget_record(db: sqlite_utils.Database, record_id: str) -> None:
    """A purged record's approvals and last logged outcomes go with it (the hash-chained
    decision log keeps its ids: it never held content)."""
    db.execute("DELETE FROM approvals WHERE record_id = ?", [record_id])
    db.execute("DELETE FROM decision_state WHERE record_id = ?", [record_id])


SCHEMA = Schema("governance", MIGRATIONS, TABLES, purge_hooks=(forget_record,))
