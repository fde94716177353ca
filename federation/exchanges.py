"""Each peer's recent exchanges with us, in both directions, for the operator to read.

An *outbound* exchange is a sync this node started (``rhizome sync``, Sync now, the
background schedule); an *inbound* one is a sync the peer started with us (it reconciled,
then fetched from us or pushed to us). Only the last :data:`KEPT_PER_PEER` per peer are
kept: this is a view for "is the link healthy?", not an audit log (the event log and the
delivery ledger are that).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

KEPT_PER_PEER = 20
MAX_ERROR_CHARS = 500
DIRECTIONS = ("out", "in")


@dataclass(frozen=True)
class Exchange:
    peer_id: str
    at: int
    direction: str  # "out": we started it; "in": the peer did
    received: int
    sent: int
    error: str | None


def record_outbound(
    db: sqlite_utils.Database,
    peer_id: str,
    at: int,
    received: int,
    sent: int,
    error: str | None,
) -> None:
    """One sync we started, finished or failed (call inside the caller's transaction)."""
    _insert(db, Exchange(peer_id, at, "out", received, sent, error))


def begin_inbound(db: sqlite_utils.Database, peer_id: str, at: int) -> None:
    """The peer opened a sync session with us; its fetches and pushes count into this row."""
    _insert(db, Exchange(peer_id, at, "in", 0, 0, None))


def count_inbound(db: sqlite_utils.Database, peer_id: str, received: int, sent: int) -> None:
    """Add what moved in a fetch or push to the peer's latest inbound exchange."""
    if received == 0 and sent == 0:
        return
    db.execute(
        "UPDATE peer_exchanges SET received = received + ?, sent = sent + ? WHERE id = ("
        "SELECT max(id) FROM peer_exchanges WHERE peer_id = ? AND direction = 'in')",
        [received, sent, peer_id],
    )


def recent_exchanges(
    db: sqlite_utils.Database, peer_id: str, limit: int = KEPT_PER_PEER
) -> list[Exchange]:
    """The peer's last exchanges, newest first."""
    rows = db.execute(
        "SELECT peer_id, at, direction, received, sent, error FROM peer_exchanges "
        "WHERE peer_id = ? ORDER BY id DESC LIMIT ?",
        [peer_id, limit],
    ).fetchall()
    return [Exchange(*row) for row in rows]


def last_inbound(db: sqlite_utils.Database, peer_id: str) -> int | None:
    """When the peer last started a sync with us, if we remember."""
    row = db.execute(
        "SELECT max(at) FROM peer_exchanges WHERE peer_id = ? AND direction = 'in'", [peer_id]
    ).fetchone()
    return None if row[0] is None else int(row[0])


def last_exchange(db: sqlite_utils.Database, peer_id: str, last_sync: int | None) -> int | None:
    """The last exchange with the peer in either direction: a sync we started (ok or not),
    one it started with us, or our last successful sync (older than the kept history)."""
    row = db.execute("SELECT max(at) FROM peer_exchanges WHERE peer_id = ?", [peer_id]).fetchone()
    times = [t for t in (row[0], last_sync) if t is not None]
    return max(times) if times else None


def _insert(db: sqlite_utils.Database, exchange: Exchange) -> None:
    error = None if exchange.error is None else exchange.error[:MAX_ERROR_CHARS]
    db.execute(
        "INSERT INTO peer_exchanges (peer_id, at, direction, received, sent, error) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [exchange.peer_id, exchange.at, exchange.direction, exchange.received, exchange.sent,
         error],
    )  # fmt: skip
    db.execute(
        "DELETE FROM peer_exchanges WHERE peer_id = ? AND id <= ("
        "SELECT id FROM peer_exchanges WHERE peer_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        [exchange.peer_id, exchange.peer_id, KEPT_PER_PEER],
    )
