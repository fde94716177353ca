"""Federation's migrations for attachments (m043 onwards, registered in federation.schema).

``peers.purposes``: what a peer declared it uses lessons for, as a JSON list (consent
``purposes`` decide on it, governance.decisions); from m065 the peer declares them itself,
signed (federation/purposes.py).
"""

from __future__ import annotations

import sqlite_utils


def m043_peer_purposes(db: sqlite_utils.Database) -> None:
    """What each peer declared it uses lessons for (none until declared)."""
    db.execute("ALTER TABLE peers ADD COLUMN purposes TEXT NOT NULL DEFAULT '[]'")


def m065_declared_purposes(db: sqlite_utils.Database) -> None:
    """Purposes a node declares itself, signed (federation/purposes.py): our own declaration
    (``own_purposes``, one row), and per peer when its signed declaration was made, the
    signed bytes (evidence) and which of our declarations it confirmed. A peer whose
    ``purposes_declared_at`` is NULL never declared: its purposes, if any, were recorded here
    by an operator (``rhizome peer purposes``, for nodes older than declarations)."""
    db.execute(
        "CREATE TABLE own_purposes (one INTEGER PRIMARY KEY CHECK (one = 1), "
        "purposes TEXT NOT NULL, declared_at INTEGER NOT NULL)"
    )
    db.execute("ALTER TABLE peers ADD COLUMN purposes_declared_at INTEGER")
    db.execute("ALTER TABLE peers ADD COLUMN purposes_statement BLOB")
    db.execute("ALTER TABLE peers ADD COLUMN purposes_told_at INTEGER")
