"""Archive's migrations for an exchange's own work (m047, m048): follow-ups due, and the
collections and evaluations found without reading the lessons.

``records.next_due`` is derived from the signed record like every readable column
(:func:`archive.store.derived_columns`): the earliest open date of an action brief's
follow-ups (archive.details.FollowUps.next_due). Only briefs with open follow-ups have it, so
its partial index stays as small as the list of what is due, however large the archive.
"""

from __future__ import annotations

import sqlite_utils


def m047_next_due(db: sqlite_utils.Database) -> None:
    """``records.next_due`` and its index (every record before has none: format 1)."""
    db.execute("ALTER TABLE records ADD COLUMN next_due INTEGER")
    db.execute("CREATE INDEX records_by_next_due ON records (next_due) WHERE next_due IS NOT NULL")


def m048_exchange_kinds(db: sqlite_utils.Database) -> None:
    """Collections and evaluations, each by time, without scanning a million lessons."""
    db.execute("CREATE INDEX records_collections ON records (created) WHERE kind = 'collection'")
    db.execute("CREATE INDEX records_evaluations ON records (created) WHERE kind = 'evaluation'")
