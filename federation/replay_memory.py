"""The replay memory of federation requests, kept in the node's database.

A captured signed request must not be accepted twice, even after the node restarted: the
signatures accepted within the freshness window live in the ``seen_signatures`` table, not
only in memory. The row is written before the request is handled, so a replay arriving
after a restart (or a crash) finds it.

Cost: one ``INSERT OR IGNORE`` of about 80 bytes per accepted request. The database runs in
WAL mode with ``synchronous = NORMAL``, so a commit appends to the WAL without an fsync (it
is synced at the next checkpoint). The write is cheap, but it needs SQLite's one write lock,
which the worker threads handling other peers' requests hold in turn: on the event loop it
would wait for them (up to the busy timeout), so the routes write it in a worker thread too,
on that thread's connection (:meth:`StoredReplayGuard.on`).

Bounded: rows older than the window are pruned every :data:`PRUNE_EVERY` requests, and
beyond ``max_entries`` the oldest go first (as :class:`crypto.replay_guard.ReplayGuard`
does in memory), so the table stays small however fast valid requests arrive.
"""

from __future__ import annotations

import sqlite_utils

from crypto.replay_guard import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_SKEW
from crypto.signature_rejected import SignatureRejected

PRUNE_EVERY = 256


class StoredReplayGuard:
    """Remembers accepted request signatures in ``seen_signatures`` (see the module doc)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        window: int = DEFAULT_MAX_SKEW,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if window < 0 or max_entries < 1:
            raise ValueError("a replay guard needs window >= 0 and max_entries >= 1")
        self.db = db
        self._window = window
        self.max_entries = max_entries
        self._since_prune = 0

    def on(self, db: sqlite_utils.Database) -> StoredReplayGuard:
        """The same memory through another connection to the same database (a worker
        thread's own); the count towards the next prune is approximate across them."""
        twin = StoredReplayGuard(db, self._window, self.max_entries)
        twin._since_prune = self._since_prune
        self._since_prune += 1
        return twin

    @property
    def window(self) -> int:
        return self._window

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM seen_signatures").fetchone()[0])

    def check_and_remember(self, signature: bytes, created: int, now: int) -> None:
        """Raise ``SignatureRejected("replayed")`` if seen before; otherwise remember it."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO seen_signatures (signature, created) VALUES (?, ?)",
            [signature, created],
        )
        if cursor.rowcount == 0:
            raise SignatureRejected("replayed", "this signed request was already received")
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self.prune(now)

    def prune(self, now: int) -> None:
        """Forget what is beyond the window (verify_request refuses it as stale anyway), and
        the oldest entries past ``max_entries``."""
        self._since_prune = 0
        self.db.execute("DELETE FROM seen_signatures WHERE created < ?", [now - self._window])
        excess = self.count() - self.max_entries
        if excess > 0:
            self.db.execute(
                "DELETE FROM seen_signatures WHERE signature IN "
                "(SELECT signature FROM seen_signatures ORDER BY created LIMIT ?)",
                [excess],
            )
