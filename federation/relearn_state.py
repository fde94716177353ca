"""Which peers a restored node must still relearn its own withdrawals from (the
``relearn_pending`` table), and whether that holds back every offer. The exchange itself is
federation/relearn.py; this module has no other federation import, so the sharing side can
ask it without a cycle."""

from __future__ import annotations

import sqlite_utils

from archive.db import transaction


def mark_restored(db: sqlite_utils.Database, now: int) -> int:
    """Mark every paired peer (active or suspended) as one to relearn our withdrawals from;
    how many were marked."""
    with transaction(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO relearn_pending (peer_id, since) "
            "SELECT node_id, ? FROM peers WHERE status IN ('active', 'suspended')",
            [now],
        )
    return int(cursor.rowcount)


def offers_held(db: sqlite_utils.Database) -> bool:
    """Whether an active peer has not yet told us our own withdrawals since a restore."""
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM relearn_pending AS r JOIN peers AS p "
        "ON p.node_id = r.peer_id WHERE p.status = 'active')"
    ).fetchone()
    return bool(row[0])


def pending_peers(db: sqlite_utils.Database) -> list[str]:
    """The peers we have not relearned from yet (any status)."""
    rows = db.execute("SELECT peer_id FROM relearn_pending ORDER BY peer_id").fetchall()
    return [str(row[0]) for row in rows]


def unmark(db: sqlite_utils.Database, peer_id: str) -> None:
    """``peer_id`` told us our withdrawals (caller's transaction)."""
    db.execute("DELETE FROM relearn_pending WHERE peer_id = ?", [peer_id])
