"""What a node uses lessons for, declared by the node itself and signed with its node key.

A lesson whose consent names purposes (training, research, press, …) goes only to peers
whose declared purposes are all among them (governance.decisions). The peer declares them,
not our operator: ``rhizome purposes set training research`` stores this node's own
declaration, and the node hands it to every peer as a **purposes declaration**, an envelope
signed in the context ``rhizome/purposes/v1`` over ``{"node", "purposes", "at"}``:

* at pairing, inside the pairing request (the joiner's) and its answer (the inviter's);
* after a change, at the start of the next sync with each peer (``POST
  /federation/v1/purposes``, federation/purposes_announce.py), until that peer confirms it.

A receiver believes a declaration only if it is signed by the key that speaks for the node
it came from (the request's signer, or the inviter the invite code names), names that node,
and holds well-formed purposes; anything else is refused whole, nothing stored. ``at`` orders
declarations: one no newer than the declaration held is not taken (an old one replayed
never undoes a change). The signed bytes are kept with the peer's row as evidence.

Building and opening declarations is sans-IO; the storage functions take a database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError, RhizomeError
from crypto.signing import SigningIdentity
from federation.errors import PeerProtocolError

PURPOSES_CONTEXT = b"rhizome/purposes/v1"
MAX_PURPOSES = 16
MAX_PURPOSE = 40
MAX_DECLARATION_BYTES = 2048
_LIMITS = DecodeLimits(
    max_bytes=MAX_DECLARATION_BYTES, max_str_len=200, max_bin_len=MAX_DECLARATION_BYTES,
    max_array_len=MAX_PURPOSES + 4, max_map_len=4,
)  # fmt: skip


class InvalidPurposes(RhizomeError):
    """Purposes are short words such as training, research or press: at most 16 of them,
    each at most 40 characters."""

    code = "invalid_purposes"


class InvalidPurposesDeclaration(PeerProtocolError):
    """A purposes declaration that is not signed by the node sending it, names another
    node, or holds malformed purposes: it is refused and nothing is stored."""

    code = "invalid_purposes_declaration"


class PurposesDeclaredByPeer(RhizomeError):
    """This peer declared its purposes itself, signed: they are not recorded here by hand.
    Ask its operator to change them on that hub (``rhizome purposes set``); to keep lessons
    from it, use the policy or the lessons' consent."""

    code = "purposes_declared"
    http_status = 409


@dataclass(frozen=True)
class Declaration:
    node_id: str
    purposes: tuple[str, ...]
    at: int


def clean_purposes(purposes: Iterable[str]) -> tuple[str, ...]:
    """Purposes as they are stored and signed: lower case, trimmed, sorted, each once."""
    cleaned = sorted({purpose.strip().lower() for purpose in purposes if purpose.strip()})
    if len(cleaned) > MAX_PURPOSES or any(len(purpose) > MAX_PURPOSE for purpose in cleaned):
        raise InvalidPurposes(f"at most {MAX_PURPOSES} purposes of {MAX_PURPOSE} characters each")
    return tuple(cleaned)


def issue_declaration(identity: SigningIdentity, declaration: Declaration) -> bytes:
    """Our declaration, signed by our current key."""
    fields = {"node": declaration.node_id, "purposes": list(declaration.purposes),
              "at": declaration.at}  # fmt: skip
    return seal(identity, PURPOSES_CONTEXT, pack(fields)).raw


def open_declaration(raw: bytes, sender: str, sender_key: bytes) -> Declaration:
    """The declaration, if ``sender`` signed it (with ``sender_key``, the key that speaks
    for it now) about itself, with well-formed purposes."""
    try:
        envelope = open_envelope(raw, PURPOSES_CONTEXT, _LIMITS)
        fields = unpack(envelope.payload, _LIMITS)
    except CryptoError as error:
        raise InvalidPurposesDeclaration(
            f"the purposes declaration is not a signed declaration: {error}"
        ) from error
    if envelope.signer != sender_key:
        raise InvalidPurposesDeclaration(
            "the purposes declaration is not signed by the node sending it"
        )
    if not isinstance(fields, dict) or set(fields) != {"node", "purposes", "at"}:
        raise InvalidPurposesDeclaration("a purposes declaration holds exactly: node, purposes, at")
    node, purposes, at = fields["node"], fields["purposes"], fields["at"]
    if node != sender:
        raise InvalidPurposesDeclaration("the purposes declaration names another node")
    if not isinstance(at, int) or isinstance(at, bool) or at < 0:
        raise InvalidPurposesDeclaration("the purposes declaration has no valid time")
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        raise InvalidPurposesDeclaration("the declared purposes must be a list of words")
    try:
        cleaned = clean_purposes(purposes)
    except InvalidPurposes as error:
        raise InvalidPurposesDeclaration(f"the declared purposes: {error}") from error
    if list(cleaned) != purposes:
        raise InvalidPurposesDeclaration(
            "the declared purposes must be lower case, sorted and each given once"
        )
    return Declaration(node, cleaned, at)


# ---- our own declaration -------------------------------------------------------------------


def own_declaration(db: sqlite_utils.Database, node_id: str) -> Declaration | None:
    """What this node declared it uses lessons for (None: never declared)."""
    row = db.execute("SELECT purposes, declared_at FROM own_purposes WHERE one = 1").fetchone()
    if row is None:
        return None
    return Declaration(node_id, tuple(json.loads(row[0])), int(row[1]))


def declare_own_purposes(
    db: sqlite_utils.Database, identity: SigningIdentity, node_id: str, purposes: Iterable[str],
    now: int,
) -> Declaration:
    """Store our new declaration; each peer is told at the start of the next sync with it.

    ``at`` only grows (a clock set back still makes a newer declaration)."""
    cleaned = clean_purposes(purposes)
    with transaction(db):
        known = own_declaration(db, node_id)
        at = now if known is None else max(now, known.at + 1)
        db.execute(
            "INSERT INTO own_purposes (one, purposes, declared_at) VALUES (1, ?, ?) "
            "ON CONFLICT (one) DO UPDATE SET purposes = excluded.purposes, "
            "declared_at = excluded.declared_at",
            [json.dumps(list(cleaned)), at],
        )
        append_event(db, identity, "purposes.declared", node_id, {"purposes": list(cleaned)}, now)
    return Declaration(node_id, cleaned, at)


def declaration_to_send(
    db: sqlite_utils.Database, identity: SigningIdentity, node_id: str
) -> bytes | None:
    """Our signed declaration, as a pairing message carries it (None: never declared)."""
    declared = own_declaration(db, node_id)
    return None if declared is None else issue_declaration(identity, declared)


# ---- what peers declared -------------------------------------------------------------------


def take_declaration(
    db: sqlite_utils.Database, identity: SigningIdentity, declaration: Declaration, raw: bytes,
    now: int,
) -> bool:
    """Store a peer's verified declaration unless we hold one as new or newer; whether it
    was taken. Call inside the caller's transaction when pairing."""
    row = db.execute(
        "SELECT purposes_declared_at FROM peers WHERE node_id = ?", [declaration.node_id]
    ).fetchone()
    if row is None or (row[0] is not None and int(row[0]) >= declaration.at):
        return False
    db.execute(
        "UPDATE peers SET purposes = ?, purposes_declared_at = ?, purposes_statement = ? "
        "WHERE node_id = ?",
        [json.dumps(list(declaration.purposes)), declaration.at, raw, declaration.node_id],
    )
    detail = {"purposes": list(declaration.purposes), "declared_at": declaration.at}
    append_event(db, identity, "peer.purposes", declaration.node_id, detail, now)
    return True


def declared_by_peer(db: sqlite_utils.Database, node_id: str) -> int | None:
    """When the peer's own signed declaration we hold was made (None: it never declared;
    its purposes, if any, were recorded here by an operator)."""
    row = db.execute(
        "SELECT purposes_declared_at FROM peers WHERE node_id = ?", [node_id]
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])
