"""Peers learn that a member of a hub was removed or had their key compromised.

When an admin runs ``rhizome member compromised NAME --since TIME`` (or removes a member), the
hub signs a **member notice** with its node key (context ``rhizome/member-notice/v1``)::

    [1, origin node id, kind ("compromised" | "removed"), member name, member key (32 bytes),
     since, issued at]

and hands it to each active peer in its next exchange (``POST /federation/v1/member-notices``,
only while that peer has not acknowledged it). The peer verifies it was signed by a key of
the origin's chain, stores it (federation m081), and re-evaluates what it took on that
member's word: the one thing a peer checks against a member's certificate is a withdrawal
(a revocation carries the acting member's certificate and signature). Withdrawals that member
signed at or after ``since`` are listed to the operator (event ``peer.member_compromised``),
and any that arrives later is flagged the same way. They are still honoured: a withdrawal
also carries the origin's own node signature, and keeping a lesson a community asked to
withdraw is the worse mistake; the operator asks the origin whether to trust it.
Approvals never reach peers as something they check (the origin decides what leaves), so
nothing else rests on the member there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from archive.key_store import node_for_key
from archive.own_revocations import revocations_issued_by
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError
from crypto.signing import SigningIdentity
from federation import endpoints, wire
from federation.client import PeerClient
from federation.errors import PeerProtocolError
from federation.local import LocalNode
from federation.peers import Peer
from federation.revocation import InvalidRevocation, open_revocation
from federation.workers import in_worker

NOTICE_CONTEXT = b"rhizome/member-notice/v1"
KINDS = ("compromised", "removed")
_LIMITS = DecodeLimits(max_bytes=1024, max_str_len=200, max_bin_len=256, max_array_len=8)
PAGE = 1_000


class InvalidMemberNotice(PeerProtocolError):
    """A member notice that is forged, malformed, or about another hub than the one that
    sent it. It is refused and nothing of it is stored."""

    code = "invalid_member_notice"


@dataclass(frozen=True)
class MemberNotice:
    notice_id: str
    origin: str
    kind: str
    member: str
    member_key: bytes
    since: int
    issued_at: int
    raw: bytes


def make_notice(
    node: SigningIdentity, kind: str, member: str, member_key: bytes, since: int, now: int
) -> MemberNotice:
    payload = pack([1, node.node_id, kind, member, member_key, since, now])
    return open_notice(seal(node, NOTICE_CONTEXT, payload).raw, lambda key: node.node_id)


def open_notice(raw: bytes, node_of: Any) -> MemberNotice:
    """Verify a notice: its signature, and that its signer speaks for the origin it names."""
    try:
        envelope = open_envelope(raw, NOTICE_CONTEXT, _LIMITS)
        fields = unpack(envelope.payload, _LIMITS)
    except CryptoError as error:
        raise InvalidMemberNotice(f"member notice: {error}") from error
    if not (isinstance(fields, list) and len(fields) == 7 and fields[0] == 1):
        raise InvalidMemberNotice("member notice: not a version 1 notice")
    _, origin, kind, member, key, since, issued_at = fields
    shaped = (
        isinstance(origin, str) and kind in KINDS and isinstance(member, str)
        and isinstance(key, bytes) and len(key) == 32
        and all(type(v) is int and v >= 0 for v in (since, issued_at))
    )  # fmt: skip
    if not shaped:
        raise InvalidMemberNotice("member notice: malformed fields")
    if node_of(envelope.signer) != origin:
        raise InvalidMemberNotice("member notice: not signed by the hub it names")
    return MemberNotice(envelope.content_id.hex(), origin, kind, member, key, since, issued_at, raw)


def issue_member_notice(
    db: sqlite_utils.Database, node: SigningIdentity, kind: str, member: str,
    member_key: bytes, since: int, now: int,
) -> MemberNotice:  # fmt: skip
    """Sign and keep a notice of our own; every active peer gets it at its next exchange."""
    notice = make_notice(node, kind, member, member_key, since, now)
    with transaction(db):
        _store(db, notice, now)
    return notice


def _store(db: sqlite_utils.Database, notice: MemberNotice, now: int) -> bool:
    cursor = db.execute(
        "INSERT OR IGNORE INTO member_notices (notice_id, origin, kind, member, member_key, "
        "since, issued_at, raw, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [notice.notice_id, notice.origin, notice.kind, notice.member, notice.member_key,
         notice.since, notice.issued_at, notice.raw, now],
    )  # fmt: skip
    return cursor.rowcount == 1


def untold(db: sqlite_utils.Database, own: str, peer_id: str) -> list[tuple[str, bytes]]:
    rows = db.execute(
        "SELECT notice_id, raw FROM member_notices WHERE origin = ? AND notice_id NOT IN "
        "(SELECT notice_id FROM member_notices_told WHERE peer_id = ?) ORDER BY issued_at",
        [own, peer_id],
    ).fetchall()
    return [(str(row[0]), bytes(row[1])) for row in rows[: wire.MAX_MEMBER_NOTICES]]


async def tell_member_notices(client: PeerClient, peer: Peer) -> int:
    """Hand ``peer`` our notices it has not acknowledged (no call when there are none)."""
    local = client.local
    pending = await in_worker(local, _untold_for, peer.node_id)
    if not pending:
        return 0
    await client.call(
        endpoints.MEMBER_NOTICES, {"notices": [raw for _, raw in pending]},
        recipient=peer.node_id, base_url=peer.url,
    )  # fmt: skip
    await in_worker(local, _mark_told, peer.node_id, [notice_id for notice_id, _ in pending])
    return len(pending)


def _untold_for(local: LocalNode, peer_id: str) -> list[tuple[str, bytes]]:
    return untold(local.db, local.node_id, peer_id)


def _mark_told(local: LocalNode, peer_id: str, notice_ids: list[str]) -> None:
    with transaction(local.db):
        local.db.conn.executemany(
            "INSERT OR IGNORE INTO member_notices_told (peer_id, notice_id) VALUES (?, ?)",
            [(peer_id, notice_id) for notice_id in notice_ids],
        )


def answer_member_notices(local: LocalNode, sender: Peer, body: bytes) -> bytes:
    """The peer's side: verify every notice (all or nothing), store, re-evaluate, tell."""
    raws = wire.decode(endpoints.MEMBER_NOTICES.request, body)["notices"]
    db, now = local.db, local.now()
    with transaction(db):
        notices = [open_notice(raw, partial(node_for_key, db)) for raw in raws]
        if any(notice.origin != sender.node_id for notice in notices):
            raise InvalidMemberNotice("member notice: about another hub than the sender")
        noted = 0
        for notice in notices:
            if _store(db, notice, now):
                noted += 1
                detail = {
                    "member": notice.member, "kind": notice.kind, "since": notice.since,
                    "withdrawals_after": withdrawals_signed_after(db, notice),
                }  # fmt: skip
                append_event(db, local.identity, "peer.member_compromised", sender.node_id,
                             detail, now)  # fmt: skip
    return wire.encode(endpoints.MEMBER_NOTICES.answer, {"noted": noted})


def withdrawals_signed_after(db: sqlite_utils.Database, notice: MemberNotice) -> list[str]:
    """The origin's withdrawals we hold that the member signed at or after ``since``."""
    found, after = [], ""
    while page := revocations_issued_by(db, notice.origin, after, PAGE):
        for revocation_id, envelope in page:
            if _signed_by_after(db, envelope, notice.member, notice.since):
                found.append(revocation_id)
        after = page[-1][0]
    return found


def _signed_by_after(db: sqlite_utils.Database, envelope: bytes, member: str, since: int) -> bool:
    try:
        revocation = open_revocation(envelope, partial(node_for_key, db))
    except InvalidRevocation:
        return False  # stored ones verified when they came; a key change may not reopen one
    return revocation.member == member and revocation.issued_at >= since


def doubted_member(
    db: sqlite_utils.Database, origin: str, member: str, issued_at: int
) -> str | None:
    """The notice that makes a withdrawal by ``member`` of ``origin`` at ``issued_at``
    doubtful (signed at or after the moment its hub gave), if any."""
    row = db.execute(
        "SELECT notice_id FROM member_notices WHERE origin = ? AND member = ? AND since <= ? "
        "ORDER BY since LIMIT 1",
        [origin, member, issued_at],
    ).fetchone()
    return None if row is None else str(row[0])


def doubted_members(db: sqlite_utils.Database, origin: str) -> list[tuple[str, str, int]]:
    """(member, kind, since) of every notice ``origin`` gave us, earliest moment first: what
    the Peers page shows beside that hub."""
    rows = db.execute(
        "SELECT member, kind, since FROM member_notices WHERE origin = ? ORDER BY since, member",
        [origin],
    ).fetchall()
    return [(str(row[0]), str(row[1]), int(row[2])) for row in rows]


__all__ = ["InvalidMemberNotice", "issue_member_notice", "tell_member_notices"]
