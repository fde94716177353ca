"""What changed since an offer set was built: a feed written by triggers, read by offer sets.

An offer set (federation/offer_sets.py) is kept up to date instead of rebuilt per sync: it
only needs to re-decide the records whose facts changed. Every fact the outbound decision
reads is in a table some package writes, in many places (the writer, the receiver, the
purge, approvals, member changes, delivery ledgers, quarantine). Rather than trusting each
of those places to report, triggers on the tables themselves append the record id to
``offer_changes`` in the same transaction as the change, whichever package makes it:

- ``records``: a record stored (its id), purged (its id, and the ids it names as the
  version it supersedes and the original it translates: their bounds changed), or its
  quarantine flag changed;
- ``approvals`` (governance): an approval added, changed or removed;
- ``members`` (governance): roles, removal or key of a member changed, which changes
  whether every approval counts: a row without id, meaning "decide everything again";
- ``deliveries``: a peer is now known to hold a record (offered back to it).

The feed is pruned to its last :data:`KEPT_CHANGES` rows; an offer set older than what is
kept is built again from scratch (``offer_changes_pruned`` says up to where rows are gone).
The triggers read other packages' tables, so they live in federation/schema.py (m021), the
one place a package may name another's tables, and are declared in ``FOREIGN_READS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from archive.db import transaction

KEPT_CHANGES = 200_000


@dataclass(frozen=True)
class Changes:
    """The feed after ``since``: the ids named (``everything`` when a row named none)."""

    upto: int
    record_ids: frozenset[str]
    created: dict[str, int]
    everything: bool


def latest_change(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT max(seq) FROM offer_changes").fetchone()
    return int(row[0] or 0) if row else 0


def pruned_up_to(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT up_to FROM offer_changes_pruned").fetchone()
    return int(row[0]) if row else 0


def changes_since(db: sqlite_utils.Database, since: int, limit: int) -> Changes | None:
    """What changed after ``since``; None when rows after it were pruned or there are more
    than ``limit`` (building again is then cheaper than patching)."""
    if since < pruned_up_to(db):
        return None
    rows = db.execute(
        "SELECT seq, record_id, created FROM offer_changes WHERE seq > ? ORDER BY seq LIMIT ?",
        [since, limit + 1],
    ).fetchall()
    if len(rows) > limit:
        return None
    ids = {str(record_id) for _, record_id, _ in rows if record_id is not None}
    created = {str(r): int(c) for _, r, c in rows if r is not None and c is not None}
    everything = any(record_id is None for _, record_id, _ in rows)
    upto = int(rows[-1][0]) if rows else since
    return Changes(upto, frozenset(ids), created, everything)


def prune_changes(db: sqlite_utils.Database, keep: int = KEPT_CHANGES) -> int:
    """Forget all but the last ``keep`` rows of the feed (in one short transaction)."""
    latest = latest_change(db)
    if latest - pruned_up_to(db) <= 2 * keep:
        return 0
    cut = latest - keep
    with transaction(db):
        removed = db.execute("DELETE FROM offer_changes WHERE seq <= ?", [cut]).rowcount
        db.execute("UPDATE offer_changes_pruned SET up_to = max(up_to, ?)", [cut])
    return int(removed)
