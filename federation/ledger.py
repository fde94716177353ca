"""The delivery ledger: which peers we sent which records to (the ``deliveries`` table).

Revocation walks it to reach every holder; receipt status starts from it.
"""

from __future__ import annotations

import sqlite_utils


def holders_of(
    db: sqlite_utils.Database, record_ids: tuple[str, ...], exclude: str | None = None
) -> list[str]:
    """Peers our delivery ledger says we sent any of these records to."""
    marks = ", ".join("?" for _ in record_ids)
    rows = db.execute(
        "SELECT DISTINCT peer_id FROM deliveries "
        f"WHERE direction = 'sent' AND record_id IN ({marks})",
        list(record_ids),
    )
    return sorted(str(row[0]) for row in rows if row[0] != exclude)


def sent_to(db: sqlite_utils.Database, record_id: str) -> list[tuple[str, int]]:
    """(peer, when) for each peer we sent this record to, oldest first."""
    rows = db.execute(
        "SELECT peer_id, at FROM deliveries WHERE record_id = ? AND direction = 'sent' ORDER BY at",
        [record_id],
    )
    return [(str(peer_id), int(at)) for peer_id, at in rows]
