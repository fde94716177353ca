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
