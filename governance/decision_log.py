"""The decision log: every sharing decision with its reasons and the policy it was taken under.

Entries hold record ids, peer ids, reason codes and the policy hash, never content or
participants' names, and are hash-chained like the event log, so a changed or removed entry
shows in ``rhizome verify``. Re-evaluating the same denial at every sync would flood the log,
so :func:`log_denial_if_new` logs a denial only when its outcome changed since the last time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archive.event_log import ChainTail
from crypto.canonical import pack
from governance.decisions import Decision

GENESIS = bytes(32)
_COLUMNS = "seq, at, direction, record_id, peer_id, allowed, reasons, policy_hash, prev, hash"


@dataclass(frozen=True)
class LoggedDecision:
    seq: int
    at: int
    direction: str
    record_id: str
    peer_id: str
    allowed: bool
    reasons: list[str]
    policy_hash: str


def entry_hash(fields: list[Any]) -> bytes:
    return hashlib.sha256(pack(fields)).digest()


def decision_chain_tail(db: sqlite_utils.Database) -> ChainTail:
    """The decision log's last entry."""
    last = db.execute("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
    return ChainTail(int(last[0]), bytes(last[1])) if last else ChainTail(0, GENESIS)


def log_decision(
    db: sqlite_utils.Database,
    direction: str,
    record_id: str,
    peer_id: str,
    decision: Decision,
    at: int,
    tail: ChainTail | None = None,
) -> None:
    """Append one decision; call inside the transaction that acts on it."""
    tail = tail or decision_chain_tail(db)
    seq, prev = tail.seq + 1, tail.hash
    reasons = json.dumps(list(decision.codes))
    fields = [
        seq,
        at,
        direction,
        record_id,
        peer_id,
        int(decision.allowed),
        reasons,
        decision.policy_hash,
        prev,
    ]
    digest = entry_hash(fields)
    db.execute(
        f"INSERT INTO decisions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*fields, digest],
    )
    tail.seq, tail.hash = seq, digest


def outcome(decision: Decision) -> str:
    """A decision's result under one policy: a changed policy makes every outcome new."""
    codes = ",".join(reason.code for reason in decision.denials)
    verdict = "allow" if decision.allowed else f"deny:{codes}"
    return f"{verdict}@{decision.policy_hash}"


def refused_under(states: dict[str, str], record_id: str, policy_hash: str) -> bool:
    """Whether we already refused this record from this peer under this very policy."""
    state = states.get(record_id, "")
    return state.startswith("deny:") and state.endswith("@" + policy_hash)


def denial_states(db: sqlite_utils.Database, peer_id: str, direction: str) -> dict[str, str]:
    rows = db.execute(
        "SELECT record_id, outcome FROM decision_state WHERE peer_id = ? AND direction = ?",
        [peer_id, direction],
    )
    return {str(record_id): str(state) for record_id, state in rows}


def denial_states_of(
    db: sqlite_utils.Database, peer_id: str, direction: str, record_ids: list[str]
) -> dict[str, str]:
    """:func:`denial_states` of these records only (deciding a few again must not read the
    state of every record denied to that peer)."""
    rows = db.execute(
        "SELECT record_id, outcome FROM decision_state WHERE peer_id = ? AND direction = ? "
        "AND record_id IN (SELECT value FROM json_each(?))",
        [peer_id, direction, json.dumps(record_ids)],
    )
    return {str(record_id): str(state) for record_id, state in rows}


def log_denial_if_new(
    db: sqlite_utils.Database,
    states: dict[str, str],
    direction: str,
    record_id: str,
    peer_id: str,
    decision: Decision,
    at: int,
) -> None:
    """Log a denial the first time it happens (or when its reasons or the policy change).

    Only denials are remembered: an allowed record leaves no state (it is logged when it is
    actually sent), so a large archive shared freely costs no writes at all here.
    """
    if decision.allowed:
        if states.pop(record_id, None) is not None:
            db.execute(
                "DELETE FROM decision_state WHERE record_id = ? AND peer_id = ? AND direction = ?",
                [record_id, peer_id, direction],
            )
        return
    now_outcome = outcome(decision)
    if states.get(record_id) == now_outcome:
        return
    states[record_id] = now_outcome
    db.execute(
        "INSERT OR REPLACE INTO decision_state (record_id, peer_id, direction, outcome) "
        "VALUES (?, ?, ?, ?)",
        [record_id, peer_id, direction, now_outcome],
    )
    log_decision(db, direction, record_id, peer_id, decision, at)


def remember_refusal(
    db: sqlite_utils.Database, record_id: str, peer_id: str, decision: Decision
) -> None:
    """Note an inbound refusal (already logged) so the next sync does not fetch it again."""
    db.execute(
        "INSERT OR REPLACE INTO decision_state (record_id, peer_id, direction, outcome) "
        "VALUES (?, ?, 'inbound', ?)",
        [record_id, peer_id, outcome(decision)],
    )


def recent_decisions(
    db: sqlite_utils.Database, limit: int = 50, record_id: str | None = None
) -> list[LoggedDecision]:
    where, params = ("WHERE record_id = ?", [record_id]) if record_id else ("", [])
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM decisions {where} ORDER BY seq DESC LIMIT ?", [*params, limit]
    )
    return [
        LoggedDecision(seq, at, direction, rid, peer, bool(allowed), json.loads(reasons), policy)
        for seq, at, direction, rid, peer, allowed, reasons, policy, _, _ in rows
    ]


def decision_chain_problems(db: sqlite_utils.Database) -> Iterator[str]:
    """Each break in the decision log's chain, in words."""
    expected_prev, expected_seq = GENESIS, 1
    for row in db.execute(f"SELECT {_COLUMNS} FROM decisions ORDER BY seq"):
        *fields, digest = row
        seq, prev = fields[0], fields[8]
        if seq != expected_seq:
            yield f"decision {seq}: expected entry {expected_seq} here, entries are missing"
        if prev != expected_prev:
            yield f"decision {seq}: does not link to the entry before it"
        if entry_hash(list(fields)) != digest:
            yield f"decision {seq}: content does not match its hash (the entry was changed)"
        expected_prev, expected_seq = digest, seq + 1
