"""Federation's migrations for attachments (m043 onwards, registered in federation.schema).

``peers.purposes``: what a peer declared it uses lessons for, as a JSON list (consent
``purposes`` decide on it, governance.decisions).
"""

from __future__ import annotations

import sqlite_utils


def m043_peer_purposes(db: sqlite_utils.Database) -> None:
    """What each peer declared it uses lessons for (none until declared)."""
    db.execute("ALTER TABLE peers ADD COLUMN purposes TEXT NOT NULL DEFAULT '[]'")
