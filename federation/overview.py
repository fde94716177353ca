"""Figures about the federation for status, metrics and the home page (read only).

node/ shows them; only federation runs SQL on its tables (tests/test_table_ownership.py).
"""

from __future__ import annotations

import sqlite_utils


def revocations_waiting_per_peer(db: sqlite_utils.Database) -> dict[str, int]:
    """Per peer: how many revocations wait in its outbox."""
    rows = db.execute(
        "SELECT peer_id, count(*) FROM outbox WHERE kind = 'revocation' GROUP BY peer_id"
    )
    return {str(peer): int(count) for peer, count in rows}


def revocations_waiting(db: sqlite_utils.Database) -> tuple[int, int]:
    """(revocations, peers) still waiting in the outbox: each counted once."""
    row = db.execute(
        "SELECT count(DISTINCT item_id), count(DISTINCT peer_id) FROM outbox "
        "WHERE kind = 'revocation'"
    ).fetchone()
    return int(row[0]), int(row[1])


def revocation_deliveries_waiting(db: sqlite_utils.Database) -> int:
    """Revocations still to deliver, one per peer that waits for it."""
    row = db.execute("SELECT count(*) FROM outbox WHERE kind = 'revocation'").fetchone()
    return int(row[0])


def peers_by_status(db: sqlite_utils.Database) -> dict[str, int]:
    """How many peers are active, suspended, removed."""
    rows = db.execute("SELECT status, count(*) FROM peers GROUP BY status")
    return {str(status): int(count) for status, count in rows}


def last_sync_results(db: sqlite_utils.Database) -> dict[bool, int]:
    """How many peers' last sync went well (True) or ended in an error (False)."""
    rows = db.execute(
        "SELECT last_error IS NULL, count(*) FROM peers WHERE last_sync IS NOT NULL GROUP BY 1"
    )
    return {bool(ok): int(count) for ok, count in rows}
