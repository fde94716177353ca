"""Federation's migrations m028, m080 and m081 (registered in :mod:`federation.schema`).

m028: a peer may be ``forked``, its key history showing two statements after one
(federation/key_exchange.py).

SQLite cannot change a CHECK constraint in place, so ``peers`` is rebuilt from its own
``CREATE`` statement with ``forked`` added to the allowed statuses, every column and row kept
(the same way as m026 in federation/gone_schema.py).
"""

from __future__ import annotations

import re

import sqlite_utils

_STATUS_CHECK = re.compile(r"CHECK \(status IN \(([^)]*)\)\)")
# After an earlier rebuild's RENAME, SQLite keeps the name quoted: "peers".
_CREATE = re.compile(r'^CREATE TABLE "?peers"? \(')


def m028_forked_peers(db: sqlite_utils.Database) -> None:
    sql = db.table("peers").schema  # its CREATE statement, as sqlite-utils reads it
    found = _STATUS_CHECK.search(sql)
    if found is None or not _CREATE.match(sql):
        raise RuntimeError("m028: the peers table is not the one this migration knows")
    allowed = f"CHECK (status IN ({found.group(1)}, 'forked'))"
    rebuilt = sql[: found.start()] + allowed + sql[found.end() :]
    rebuilt = _CREATE.sub("CREATE TABLE peers_m028 (", rebuilt, count=1)
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(peers)").fetchall())
    db.execute(rebuilt)
    db.execute(f"INSERT INTO peers_m028 ({columns}) SELECT {columns} FROM peers")
    db.execute("DROP TABLE peers")
    db.execute("ALTER TABLE peers_m028 RENAME TO peers")


def m080_own_records_pending(db: sqlite_utils.Database) -> None:
    """One row per peer a node recovered with no backup has not yet asked for its own records
    (federation/own_records.py)."""
    db.execute(
        """
        CREATE TABLE own_records_pending (
            peer_id TEXT PRIMARY KEY,
            since INTEGER NOT NULL
        )
        """
    )


def m081_member_notices(db: sqlite_utils.Database) -> None:
    """Signed notices of members removed or compromised, ours and our peers'
    (federation/member_notices.py), and which peer acknowledged which of ours."""
    db.execute(
        """
        CREATE TABLE member_notices (
            notice_id TEXT PRIMARY KEY,
            origin TEXT NOT NULL,
            kind TEXT NOT NULL,
            member TEXT NOT NULL,
            member_key BLOB NOT NULL,
            since INTEGER NOT NULL,
            issued_at INTEGER NOT NULL,
            raw BLOB NOT NULL,
            stored_at INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX member_notices_by_origin ON member_notices (origin, member)")
    db.execute(
        "CREATE TABLE member_notices_told (peer_id TEXT NOT NULL, notice_id TEXT NOT NULL, "
        "PRIMARY KEY (peer_id, notice_id))"
    )
