"""Federation's migration m026 (registered in :mod:`federation.schema`): a peer may be
``gone``, and a restored node remembers which peers it must relearn its withdrawals from.

SQLite cannot change a CHECK constraint in place, so ``peers`` is rebuilt from its own
``CREATE`` statement with ``gone`` added to the allowed statuses (federation/gone.py), every
column and row kept as they are (whatever columns other migrations added before this one).
No other table points at it and it has no index or trigger of its own.
"""

from __future__ import annotations

import sqlite_utils

OLD_CHECK = "CHECK (status IN ('active', 'suspended', 'removed'))"
NEW_CHECK = "CHECK (status IN ('active', 'suspended', 'removed', 'gone'))"


def m026_gone_peers_and_relearning(db: sqlite_utils.Database) -> None:
    sql = db.table("peers").schema  # its CREATE statement, as SQLite keeps it
    if OLD_CHECK not in sql or "CREATE TABLE peers (" not in sql:
        raise RuntimeError("m026: the peers table is not the one this migration knows")
    rebuilt = sql.replace(OLD_CHECK, NEW_CHECK)
    rebuilt = rebuilt.replace("CREATE TABLE peers (", "CREATE TABLE peers_m026 (", 1)
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(peers)").fetchall())
    db.execute(rebuilt)
    db.execute(f"INSERT INTO peers_m026 ({columns}) SELECT {columns} FROM peers")
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
