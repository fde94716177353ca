"""Curator approvals: a member's signature over one exact record id.

An approval is an envelope signed by the *member's* key over
``[1, record id (32 bytes), member name, node id, time]`` in context
``rhizome/approval/v1``. It names one version: a new version needs new approvals. Whether
it still counts (the member is still a curator, is not the author) is decided when the
record is about to leave, by :mod:`governance.decisions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.canonical import pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import N_, CryptoError
from crypto.signing import SigningIdentity
from governance.members import Member
from governance.roles import NotAllowed

APPROVAL_CONTEXT = b"rhizome/approval/v1"


@dataclass(frozen=True)
class ApprovalFacts:
    """What a decision needs to know of one approval."""

    member: str
    is_curator: bool
    after_compromise: bool = False  # stored after the member's key was marked compromised


@dataclass(frozen=True)
class ApprovalRecord:
    member: str
    at: int
    verified: bool
    counts: bool


def is_self_approval(member: str, author: str, origin: str, node_id: str) -> bool:
    """Whether ``member`` approving this lesson would approve their own work: they wrote it
    on this node (an author here is only ever a member of this node)."""
    return origin == node_id and author == member


def approve(
    db: sqlite_utils.Database,
    node: SigningIdentity,
    member: Member,
    member_key: SigningIdentity,
    record_id: str,
    self_approval: bool,
    now: int,
) -> bool:
    """Sign and store ``member``'s approval of ``record_id``; False if they had already."""
    if self_approval:
        raise NotAllowed.worded(
            N_("{name} wrote this lesson and cannot approve it"), name=member.name
        )
    if db.execute(
        "SELECT 1 FROM approvals WHERE record_id = ? AND member = ?", [record_id, member.name]
    ).fetchone():
        return False
    payload = pack([1, bytes.fromhex(record_id), member.name, node.node_id, now])
    envelope = seal(member_key, APPROVAL_CONTEXT, payload)
    with transaction(db):
        db.execute(
            "INSERT INTO approvals (record_id, member, at, envelope) VALUES (?, ?, ?, ?)",
            [record_id, member.name, now, envelope.raw],
        )
        append_event(db, node, "record.approved", record_id, {"member": member.name}, now)
    return True


def _facts(rows: Any) -> dict[str, tuple[ApprovalFacts, ...]]:
    """An approval counts only if its signature verifies with the member's certified key,
    over this record id and this member: a row written into the database by hand counts
    for nothing."""
    facts: dict[str, list[ApprovalFacts]] = {}
    for record_id, member, roles, removed_at, raw, public_key, at, compromised in rows:
        late = _after_compromise(at, compromised)
        is_curator = _still_counts(removed_at, compromised, late) and "curator" in json.loads(roles)
        genuine = _binds(raw, public_key, record_id, member)
        facts.setdefault(record_id, []).append(ApprovalFacts(member, is_curator and genuine, late))
    return {record_id: tuple(items) for record_id, items in facts.items()}


def _after_compromise(at: int, compromised_since: int | None) -> bool:
    return compromised_since is not None and at >= compromised_since


def _still_counts(removed_at: int | None, compromised_since: int | None, late: bool) -> bool:
    """A removed member's approvals stop counting; a member removed because their key was
    compromised keeps the approvals stored before that moment (they were theirs)."""
    if late:
        return False
    return removed_at is None or compromised_since is not None


def _binds(raw: bytes, public_key: bytes | None, record_id: str, member: str) -> bool:
    if public_key is None:
        return False
    try:
        envelope = open_envelope(raw, APPROVAL_CONTEXT)
        _, approved, name, _, _ = unpack(envelope.payload)
    except (CryptoError, ValueError, TypeError):
        return False
    return envelope.signer == public_key and approved == bytes.fromhex(record_id) and name == member


_FACT_SQL = (
    "SELECT a.record_id, a.member, coalesce(m.roles, '[]'), "
    "CASE WHEN m.name IS NULL THEN 0 ELSE m.removed_at END, a.envelope, m.public_key, "
    "a.at, m.compromised_since "
    "FROM approvals AS a LEFT JOIN members AS m ON m.name = a.member"
)


def all_approval_facts(db: sqlite_utils.Database) -> dict[str, tuple[ApprovalFacts, ...]]:
    """Approval facts of every record (one query, for whole-archive decisions)."""
    return _facts(db.execute(_FACT_SQL))


def approval_facts_of(
    db: sqlite_utils.Database, record_ids: list[str]
) -> dict[str, tuple[ApprovalFacts, ...]]:
    """Approval facts of these records, by id, in one query."""
    where = " WHERE a.record_id IN (SELECT value FROM json_each(?))"
    return _facts(db.execute(_FACT_SQL + where, [json.dumps(record_ids)]))


def approval_facts(db: sqlite_utils.Database, record_id: str) -> tuple[ApprovalFacts, ...]:
    return _facts(db.execute(_FACT_SQL + " WHERE a.record_id = ?", [record_id])).get(record_id, ())


def approvals_of(
    db: sqlite_utils.Database, record_id: str, author: str | None
) -> list[ApprovalRecord]:
    """Every approval of a record, its signature re-checked, and whether it counts now."""
    rows = db.execute(
        "SELECT a.member, a.at, a.envelope, m.public_key, m.roles, m.removed_at, "
        "m.compromised_since "
        "FROM approvals AS a LEFT JOIN members AS m ON m.name = a.member "
        "WHERE a.record_id = ? ORDER BY a.at",
        [record_id],
    )
    result = []
    for member, at, raw, public_key, roles, removed_at, compromised in rows:
        verified = _binds(raw, public_key, record_id, member)
        late = _after_compromise(at, compromised)
        still = _still_counts(removed_at, compromised, late)
        is_curator = still and "curator" in json.loads(roles or "[]")
        counts = verified and is_curator and member != author
        result.append(ApprovalRecord(member, at, verified, counts))
    return result


def signed_approvals(
    db: sqlite_utils.Database, record_ids: list[str]
) -> tuple[list[bytes], list[bytes]]:
    """The signed approvals of these records and the certificates of the members who gave
    them (each once): what a bundle carries so the receiving hub can check them."""
    approvals, certificates = [], {}
    for record_id in record_ids:
        for member, envelope, certificate in db.execute(
            "SELECT a.member, a.envelope, m.certificate FROM approvals AS a "
            "JOIN members AS m ON m.name = a.member WHERE a.record_id = ?",
            [record_id],
        ):
            approvals.append(bytes(envelope))
            certificates[member] = bytes(certificate)
    return approvals, list(certificates.values())
