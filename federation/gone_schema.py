"""Federation's migration m026 (registered in :mod:`federation.schema`): a peer may be
``gone``, and a restored node remembers which peers it must relearn its withdrawals from.

SQLite cannot change a CHECK constraint in place, so ``peers`` is rebuilt with the same
columns and rows, its status allowed to be ``gone`` too (federation/gone.py). No other
table points at it and it has no index or trigger of its own.
"""

from __future__ import annotations

import sqlite_utils


def m026_gone_peers_and_relearning(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE peers_m026 (
            node_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            region TEXT NOT NULL,
            url TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'removed', 'gone')),
            added_at INTEGER NOT NULL,
            last_sync INTEGER,
            last_error TEXT,
            strikes INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute(
        "INSERT INTO peers_m026 (node_id, name, region, url, status, added_at, last_sync, "
        "last_error, strikes) SELECT node_id, name, region, url, status, added_at, last_sync, "
        "last_error, strikes FROM peers"
    )
    db.execute("DROP TABLE peers")
    db.execute("ALTER TABLE peers_m026 RENAME TO peers")
    # One row per peer a restored node has not yet relearned its own withdrawals from
    # (federation/relearn.py): while any active one is left, nothing is offered to anyone.
    db.execute(
        """
        CREATE TABLE relearn_pending (
            peer_id TEXT PRIMARY KEY,
            since INTEGER NOT NULL
        )
        """
    )
