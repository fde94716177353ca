"""The hash-chained, signed event log.

Every change of state on a node appends one entry: its sequence number, time, kind, the id
it concerns and a small JSON detail (ids and counts only, never record content or
participant names). Each entry holds the hash of the entry before it and is signed by the
node key, so editing, removing or reordering entries is caught by ``rhizome verify`` even
by someone who can write the database file but does not hold the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from crypto.canonical import pack
from crypto.errors import BadSignature
from crypto.signing import EVENT_CONTEXT, SigningIdentity, verify_signature

GENESIS = bytes(32)


@dataclass(frozen=True)
class Event:
    seq: int
    at: int
    kind: str
    subject: str | None
    detail: dict[str, Any]
    prev: bytes
    hash: bytes
    signature: bytes


def entry_hash(
    seq: int, at: int, kind: str, subject: str | None, detail: str, prev: bytes
) -> bytes:
    """The hash that chains an entry to the one before it."""
    return hashlib.sha256(pack([seq, at, kind, subject, detail, prev])).digest()


def encode_detail(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class ChainTail:
    """The last entry of a chain, kept by a caller that appends many entries in one
    transaction (nobody else can append meanwhile), to spare a lookup per entry."""

    seq: int
    hash: bytes


def chain_tail(db: sqlite_utils.Database) -> ChainTail:
    """The event log's last entry (governance.decision_log has its own for decisions)."""
    last = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return ChainTail(int(last[0]), bytes(last[1])) if last else ChainTail(0, GENESIS)


def last_event_seq(db: sqlite_utils.Database) -> int:
    """The number of the newest event-log entry (0 for an empty log)."""
    return int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])


def subjects_logged(
    db: sqlite_utils.Database, after_seq: int, upto_seq: int, kinds: tuple[str, ...]
) -> list[str]:
    """The subjects of the entries of these kinds in ``(after_seq, upto_seq]``, in order."""
    marks = ", ".join("?" for _ in kinds)
    rows = db.execute(
        f"SELECT subject FROM events WHERE seq > ? AND seq <= ? AND kind IN ({marks})",
        [after_seq, upto_seq, *kinds],
    )
    return [str(row[0]) for row in rows]


def append_event(
    db: sqlite_utils.Database,
    identity: SigningIdentity,
    kind: str,
    subject: str | None,
    detail: dict[str, Any],
    at: int,
    tail: ChainTail | None = None,
) -> int:
    """Append an entry; call inside the transaction that makes the change it records."""
    tail = tail or chain_tail(db)
    seq, prev = tail.seq + 1, tail.hash
    detail_text = encode_detail(detail)
    digest = entry_hash(seq, at, kind, subject, detail_text, prev)
    db.execute(
        "INSERT INTO events (seq, at, kind, subject, detail, prev, hash, signature) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, at, kind, subject, detail_text, prev, digest, identity.sign(EVENT_CONTEXT, digest)],
    )
    tail.seq, tail.hash = seq, digest
    return seq


def _event(row: tuple[Any, ...]) -> Event:
    seq, at, kind, subject, detail, prev, digest, signature = row
    return Event(seq, at, kind, subject, json.loads(detail), prev, digest, signature)


def recent_events(db: sqlite_utils.Database, limit: int = 50) -> list[Event]:
    rows = db.execute(
        "SELECT seq, at, kind, subject, detail, prev, hash, signature FROM events "
        "ORDER BY seq DESC LIMIT ?",
        [limit],
    ).fetchall()
    return [_event(row) for row in rows]


def chain_problems(
    db: sqlite_utils.Database, node_key: bytes, later_keys: Sequence[bytes] = ()
) -> Iterator[str]:
    """Each break in the chain, in words; nothing when the log is intact. ``later_keys``
    are the node's keys after a rotation (archive/key_store.py): each entry must verify
    with one of the node's keys."""
    keys = [node_key, *(key for key in later_keys if key != node_key)]
    expected_prev, expected_seq = GENESIS, 1
    cursor = db.execute(
        "SELECT seq, at, kind, subject, detail, prev, hash, signature FROM events ORDER BY seq"
    )
    for seq, at, kind, subject, detail, prev, digest, signature in cursor:
        where = f"event {seq}"
        if seq != expected_seq:
            yield f"{where}: expected entry {expected_seq} here, entries are missing"
        if prev != expected_prev:
            yield f"{where}: does not link to the entry before it"
        if entry_hash(seq, at, kind, subject, detail, prev) != digest:
            yield f"{where}: content does not match its hash (the entry was changed)"
        if not any(_signed_by(key, digest, signature) for key in keys):
            yield f"{where}: signature does not verify with this node's key"
        expected_prev, expected_seq = digest, seq + 1


def _signed_by(key: bytes, digest: bytes, signature: bytes) -> bool:
    try:
        verify_signature(key, EVENT_CONTEXT, digest, signature)
    except BadSignature:
        return False
    return True
