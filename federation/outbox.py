"""The outbox: revocations and receipts waiting for one peer each, until it acknowledges.

Every row follows the table of :mod:`federation.outbox_state`: queued, then sent (counted
in ``attempts``, due again after a growing pause), then acknowledged and deleted. Nothing
here deletes a row because it was handed out; only :func:`acknowledge` does, and only for
the peer that signed the acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import sqlite_utils

from archive.db import transaction
from archive.key_store import node_for_key
from archive.tombstones import revocation_envelope
from federation.acks import open_ack
from federation.outbox_state import ACKNOWLEDGE, HAND_OUT, next_state, retry_delay

# What one push or one pull answer carries at most (the wire caps revocations at 100).
BATCH = 100


@dataclass(frozen=True)
class Outgoing:
    """(item id, envelope) pairs waiting for one peer."""

    revocations: list[tuple[str, bytes]]
    receipts: list[tuple[str, bytes]]

    def __bool__(self) -> bool:
        return bool(self.revocations or self.receipts)

    def items(self) -> list[tuple[str, str]]:
        """(kind, item id) of everything in it."""
        return [("revocation", i) for i, _ in self.revocations] + [
            ("receipt", i) for i, _ in self.receipts
        ]


@dataclass(frozen=True)
class Waiting:
    """How one outbox item stands, for the operator."""

    state: str
    attempts: int
    last_attempt_at: int | None
    next_attempt_at: int


def queue(db: sqlite_utils.Database, kind: str, item_id: str, peers: list[str], now: int) -> None:
    """Put an item in the outbox of each peer (caller's transaction); one already waiting
    keeps its state and attempts."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO outbox (kind, item_id, peer_id, queued_at) VALUES (?, ?, ?, ?)",
        [(kind, item_id, peer_id, now) for peer_id in peers],
    )


def outgoing_for(
    db: sqlite_utils.Database, peer_id: str, limit: int = BATCH, now: int | None = None
) -> Outgoing:
    """What waits in the outbox for ``peer_id``, revocations first, then receipts; with
    ``now``, only what is due (never sent, or sent and not acknowledged for a while)."""
    found: dict[str, list[tuple[str, bytes]]] = {"revocation": [], "receipt": []}
    due = "" if now is None else " AND next_attempt_at <= ?"
    rows = db.execute(
        f"SELECT kind, item_id FROM outbox WHERE peer_id = ?{due} "
        "ORDER BY kind DESC, queued_at LIMIT ?",
        [peer_id, *([] if now is None else [now]), limit],
    )
    for kind, item_id in rows.fetchall():
        lookup = revocation_envelope if kind == "revocation" else receipt_envelope
        envelope = lookup(db, item_id)
        if envelope is not None:
            found[kind].append((item_id, envelope))
    return Outgoing(found["revocation"], found["receipt"])


def receipt_envelope(db: sqlite_utils.Database, receipt_id: str) -> bytes | None:
    row = db.execute("SELECT envelope FROM receipts WHERE receipt_id = ?", [receipt_id]).fetchone()
    return None if row is None else bytes(row[0])


def hand_out(
    db: sqlite_utils.Database, peer_id: str, items: list[tuple[str, str]], now: int
) -> None:
    """These items are being sent to ``peer_id`` (pushed, or in a pull answer): count the
    attempt and set when they are due again if no acknowledgement comes."""
    with transaction(db):
        for kind, item_id in items:
            row = db.execute(
                "SELECT state, attempts FROM outbox WHERE kind = ? AND item_id = ? AND peer_id = ?",
                [kind, item_id, peer_id],
            ).fetchone()
            if row is None:
                continue  # acknowledged meanwhile
            attempts = int(row[1]) + 1
            db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, last_attempt_at = ?, "
                "next_attempt_at = ? WHERE kind = ? AND item_id = ? AND peer_id = ?",
                [
                    next_state(str(row[0]), HAND_OUT),
                    attempts,
                    now,
                    now + retry_delay(attempts),
                    kind,
                    item_id,
                    peer_id,
                ],
            )


def acknowledge(db: sqlite_utils.Database, peer_id: str, kind: str, item_ids: list[str]) -> int:
    """``peer_id`` signed that it processed these items: they leave its outbox (caller's
    transaction, or one of its own). Unknown ids are ignored (acknowledged already: a
    duplicate or a replayed acknowledgement changes nothing). Returns how many left."""
    removed = 0
    with transaction(db):
        for item_id in item_ids:
            row = db.execute(
                "SELECT state FROM outbox WHERE kind = ? AND item_id = ? AND peer_id = ?",
                [kind, item_id, peer_id],
            ).fetchone()
            if row is None:
                continue
            next_state(str(row[0]), ACKNOWLEDGE)  # raises on a state the table does not allow
            db.execute(
                "DELETE FROM outbox WHERE kind = ? AND item_id = ? AND peer_id = ?",
                [kind, item_id, peer_id],
            )
            removed += 1
    return removed


def acknowledge_signed(db: sqlite_utils.Database, raw: bytes, peer_id: str, local_node: str) -> int:
    """A signed ack from ``peer_id`` (raises ``InvalidAck`` unless it is signed by that peer
    and addressed to us): the receipts it names leave that peer's outbox."""
    ack = open_ack(raw, peer_id, local_node, partial(node_for_key, db))
    return acknowledge(db, ack.acker, "receipt", list(ack.receipt_ids))


def peers_with_outbox(db: sqlite_utils.Database, now: int | None = None) -> list[str]:
    """Peers something waits for; with ``now``, only those with something due."""
    if now is None:
        rows = db.execute("SELECT DISTINCT peer_id FROM outbox")
    else:
        rows = db.execute("SELECT DISTINCT peer_id FROM outbox WHERE next_attempt_at <= ?", [now])
    return [str(row[0]) for row in rows]


def queue_receipt(db: sqlite_utils.Database, receipt_id: str, peer_id: str, now: int) -> None:
    """Send one of our kept receipts to a peer (our own revocations keep none: skip those)."""
    if receipt_envelope(db, receipt_id) is not None:
        queue(db, "receipt", receipt_id, [peer_id], now)


def waiting(db: sqlite_utils.Database, kind: str, item_id: str, peer_id: str) -> Waiting | None:
    """How an item stands in ``peer_id``'s outbox (None once acknowledged or never queued)."""
    row = db.execute(
        "SELECT state, attempts, last_attempt_at, next_attempt_at FROM outbox "
        "WHERE kind = ? AND item_id = ? AND peer_id = ?",
        [kind, item_id, peer_id],
    ).fetchone()
    if row is None:
        return None
    return Waiting(str(row[0]), int(row[1]), row[2], int(row[3]))
