"""Archive's tables for node key histories: migration m035.

They live in archive, the lowest layer with a database, because the archive itself must know
which keys speak for a node: a record signed by a node's second key names the node's first
key as its origin, and ``rhizome verify`` re-checks it (archive/key_store.py).
"""

from __future__ import annotations

import sqlite_utils

KEY_TABLES = frozenset({"key_statements", "node_keys", "key_forks"})


def m035_key_histories(db: sqlite_utils.Database) -> None:
    """Every key statement we were shown (ours and our peers'), with when we first saw it;
    the keys each verified chain makes valid (derived, rewritten on each update); forks."""
    db.execute(
        """
        CREATE TABLE key_statements (
            statement_id TEXT PRIMARY KEY,
            node TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            raw BLOB NOT NULL,
            seen_at INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX key_statements_by_node ON key_statements (node, seq)")
    db.execute(
        """
        CREATE TABLE node_keys (
            key TEXT PRIMARY KEY,
            node TEXT NOT NULL,
            position INTEGER NOT NULL,
            since INTEGER NOT NULL,
            until INTEGER,
            suspect_since INTEGER
        )
        """
    )
    db.execute("CREATE INDEX node_keys_by_node ON node_keys (node, position)")
    db.execute(
        """
        CREATE TABLE key_forks (
            node TEXT PRIMARY KEY,
            first TEXT NOT NULL,
            second TEXT NOT NULL,
            found_at INTEGER NOT NULL
        )
        """
    )
