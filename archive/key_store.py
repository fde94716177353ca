"""Node key histories on disk: which keys speak for which node, and since when.

:func:`save_key_history` is the one way a statement gets in: everything known about the node
plus the new statements are verified together (:func:`crypto.key_history.verify_history`),
and only a history that verifies is stored, in one transaction. A forged or unlinked
statement raises :class:`~crypto.key_statements.InvalidKeyStatement` and nothing changes. A
fork is stored as evidence (both statements stay in ``key_statements``, the pair in
``key_forks``) and the keys after the fork never become valid.

Node ids here are the stable ids (the first key's); keys are spelled as node ids too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from archive.db import transaction
from archive.signed_record import KeyCheck, SignedRecord, open_record, record_signer
from crypto.key_history import (
    RETIRED,
    SUSPECT,
    UNKNOWN,
    VALID,
    KeyHistory,
    genesis_only,
    verify_history,
)
from crypto.node_id import node_id_from_public_key, public_key_from_node_id


@dataclass(frozen=True)
class KeyUpdate:
    """What saving a node's key history changed."""

    history: KeyHistory
    added: int  # statements we had not seen
    key_changed: bool  # the current key moved
    new_fork: bool  # a fork we had not recorded before


def load_key_history(db: sqlite_utils.Database, node_id: str, now: int) -> KeyHistory:
    """The verified history we hold for ``node_id`` (only its first key when none)."""
    node = public_key_from_node_id(node_id)
    raws, seen = _stored(db, node_id)
    if not raws:
        return genesis_only(node)
    return verify_history(node, raws, now=now, seen=seen)


def save_key_history(
    db: sqlite_utils.Database, node_id: str, raws: Iterable[bytes], now: int
) -> KeyUpdate:
    """Verify ``raws`` together with what we hold for ``node_id``; store them if they do."""
    node = public_key_from_node_id(node_id)
    with transaction(db):
        known, seen = _stored(db, node_id)
        before = verify_history(node, known, now=now, seen=seen) if known else genesis_only(node)
        offered = list(raws)
        history = verify_history(node, [*known, *offered], now=now, seen=seen)
        fresh = [s for s in history.statements if s.statement_id not in seen]
        db.conn.executemany(
            "INSERT INTO key_statements (statement_id, node, seq, kind, raw, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(s.id_hex, node_id, s.seq, s.kind, s.raw, now) for s in fresh],
        )
        _write_keys(db, node_id, history)
        new_fork = history.fork is not None and before.fork is None
        if new_fork and history.fork is not None:
            first, second = history.fork
            db.execute(
                "INSERT OR IGNORE INTO key_forks (node, first, second, found_at) "
                "VALUES (?, ?, ?, ?)",
                [node_id, first.id_hex, second.id_hex, now],
            )
    return KeyUpdate(history, len(fresh), history.current_key != before.current_key, new_fork)


def statements_of(db: sqlite_utils.Database, node_id: str) -> list[bytes]:
    """Every statement we hold about ``node_id``, in chain order (what we hand to peers)."""
    return _stored(db, node_id)[0]


def fork_of(db: sqlite_utils.Database, node_id: str) -> tuple[str, str, int] | None:
    """The two statement ids of ``node_id``'s recorded fork and when we found it."""
    row = db.execute(
        "SELECT first, second, found_at FROM key_forks WHERE node = ?", [node_id]
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]), int(row[2]))


def settle_fork(db: sqlite_utils.Database, node_id: str) -> None:
    """The operator decided about a fork (they re-paired or removed the node): forget the
    pair; the statements themselves stay as evidence."""
    db.execute("DELETE FROM key_forks WHERE node = ?", [node_id])


def current_key(db: sqlite_utils.Database, node_id: str) -> bytes:
    """The key that speaks for ``node_id`` now: the last valid key of its chain."""
    row = db.execute(
        "SELECT key FROM node_keys WHERE node = ? AND until IS NULL", [node_id]
    ).fetchone()
    return public_key_from_node_id(str(row[0]) if row else node_id)


def current_period(db: sqlite_utils.Database, node_id: str) -> tuple[str, int | None]:
    """The key that speaks for ``node_id`` now (spelled as a node id) and since when it does:
    the time of the rotation or recovery that made it current (None for its first key)."""
    row = db.execute(
        "SELECT key, since FROM node_keys WHERE node = ? AND until IS NULL", [node_id]
    ).fetchone()
    if row is None or str(row[0]) == node_id:
        return node_id, None
    return str(row[0]), int(row[1])


def node_for_current_key(db: sqlite_utils.Database, key_id: str) -> str | None:
    """The node whose *current* key is ``key_id`` (what a signed request must be signed by);
    ``key_id`` itself for a node with no history; None for a retired or unknown key."""
    row = db.execute("SELECT node, until FROM node_keys WHERE key = ?", [key_id]).fetchone()
    if row is None:
        return key_id  # no history: a node's first key is its id
    return str(row[0]) if row[1] is None else None


def node_for_key(db: sqlite_utils.Database, key: bytes) -> str:
    """The node a signed statement (a revocation, a receipt) came from: the stable id of the
    chain ``key`` is on, or ``key``'s own id when it is on none. Retired keys still count:
    a revocation signed before a rotation may reach a peer long after it."""
    key_id = node_id_from_public_key(key)
    row = db.execute(
        "SELECT node FROM node_keys WHERE key = ? AND suspect_since IS NULL", [key_id]
    ).fetchone()
    return key_id if row is None else str(row[0])


def record_key_check(db: sqlite_utils.Database, remember: bool = False) -> KeyCheck:
    """How far ``signer`` speaks for the origin ``origin`` at time ``signed_at``.

    ``remember``: read each origin's key history once, for a caller whose transaction
    cannot change it meanwhile (a received batch: a query per record otherwise)."""
    known: dict[str, list[tuple[str, int, int | None, int | None]]] = {}

    def check(origin: bytes, signer: bytes, signed_at: int) -> str:
        origin_id = node_id_from_public_key(origin)
        rows = known.get(origin_id)
        if rows is None:
            rows = db.execute(
                "SELECT key, since, until, suspect_since FROM node_keys WHERE node = ? "
                "ORDER BY position",
                [origin_id],
            ).fetchall()
            if remember:
                known[origin_id] = rows
        if not rows:
            return VALID if signer == origin else UNKNOWN
        return _standing(rows, node_id_from_public_key(signer), signed_at)

    return check


def key_standing(db: sqlite_utils.Database, node_id: str, key: bytes, signed_at: int) -> str:
    """How far ``key`` spoke for ``node_id`` at ``signed_at`` (VALID, RETIRED, SUSPECT or
    UNKNOWN): for what a node signs besides records (bundles, echo statements)."""
    return record_key_check(db)(public_key_from_node_id(node_id), key, signed_at)


def _standing(rows: list[tuple[str, int, int | None, int | None]], key: str, at: int) -> str:
    for row_key, _since, until, suspect_since in reversed(rows):
        if row_key != key:
            continue
        if suspect_since is not None and at >= suspect_since:
            return SUSPECT
        if until is not None and at > until:
            return RETIRED
        return VALID
    return UNKNOWN


def _stored(db: sqlite_utils.Database, node_id: str) -> tuple[list[bytes], dict[bytes, int]]:
    rows = db.execute(
        "SELECT statement_id, raw, seen_at FROM key_statements WHERE node = ? "
        "ORDER BY seq, statement_id",
        [node_id],
    ).fetchall()
    return [bytes(row[1]) for row in rows], {bytes.fromhex(row[0]): int(row[2]) for row in rows}


def _write_keys(db: sqlite_utils.Database, node_id: str, history: KeyHistory) -> None:
    db.execute("DELETE FROM node_keys WHERE node = ?", [node_id])
    db.conn.executemany(
        "INSERT OR REPLACE INTO node_keys (key, node, position, since, until, suspect_since) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (node_id_from_public_key(p.key), node_id, index, p.since, p.until, p.suspect_since)
            for index, p in enumerate(history.periods)
        ],
    )


def keys_of(db: sqlite_utils.Database, node_id: str) -> list[bytes]:
    """Every key of ``node_id``'s chain, first to current (just the first key with no
    history): what may have signed its event log."""
    rows = db.execute(
        "SELECT key FROM node_keys WHERE node = ? ORDER BY position", [node_id]
    ).fetchall()
    return [public_key_from_node_id(str(row[0])) for row in rows] or [
        public_key_from_node_id(node_id)
    ]


def is_suspect(db: sqlite_utils.Database, record: SignedRecord) -> bool:
    """Whether a recovery said the key that signed ``record`` was compromised by then."""
    lesson = record.lesson
    check = record_key_check(db)
    return check(lesson.origin, record_signer(record), lesson.created) == SUSPECT


def quarantine_suspect_records(db: sqlite_utils.Database, node_id: str) -> list[str]:
    """Put in quarantine every stored record of ``node_id`` that its key history no longer
    vouches for: signed by a key a recovery named compromised (at or after the moment it
    gave), or by a key only an overridden rotation named. Returns their ids (in the
    caller's transaction; a curator then accepts or rejects each one)."""
    check = record_key_check(db)
    caught = []
    rows = db.execute(
        "SELECT id, envelope FROM records WHERE origin = ? AND quarantined = 0", [node_id]
    ).fetchall()
    for record_id, envelope in rows:
        # Opened to read who signed it and when; its standing is what is judged here.
        record = open_record(bytes(envelope), f"record {str(record_id)[:12]}", _any_key)
        lesson = record.lesson
        if check(lesson.origin, record_signer(record), lesson.created) not in (VALID, RETIRED):
            caught.append(str(record_id))
    db.conn.executemany(
        "UPDATE records SET quarantined = 1 WHERE id = ?", [(record_id,) for record_id in caught]
    )
    return caught


def _any_key(_origin: bytes, _signer: bytes, _at: int) -> str:
    return VALID
