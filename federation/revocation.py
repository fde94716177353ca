"""Revocation statements and purge receipts, sans-IO: build them, open them, check them.

A *revocation* is an envelope signed by the origin node (context ``rhizome/revocation/v1``)
over the canonical array::

    [1, origin node id, [record ids, 32 bytes each, sorted], reason, issued at,
     member name, member certificate, member signature]

The member signature covers ``[1, origin, ids, reason, issued at]`` with the member's own key
(context ``rhizome/revocation-member/v1``), and the certificate (signed by the same origin
node) proves that key is that member's: a holder can check both *which node* and *who*
withdrew the record. Only when consent expired does the node revoke by itself, with an
empty member name, certificate and signature. The revocation's id is the hash of its
signed bytes.

A *purge receipt* is an envelope signed by a holder node (context ``rhizome/receipt/v1``)
over ``[1, revocation id, holder node id, purged at, [node ids it forwarded to]]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError, InvalidNodeId
from crypto.node_id import node_id_from_public_key, normalize_node_id
from crypto.signing import SigningIdentity, verify_signature
from federation.errors import PeerProtocolError
from governance.members import MEMBER_CONTEXT

REVOCATION_CONTEXT = b"rhizome/revocation/v1"
MEMBER_REVOCATION_CONTEXT = b"rhizome/revocation-member/v1"
RECEIPT_CONTEXT = b"rhizome/receipt/v1"
REASONS = ("consent-withdrawn", "safety", "error", "expired", "other")
MAX_IDS = 1_000
# A holder passes a record on to its own peers: more than this many is no hub's network,
# each name is a holder the origin would have to track (see federation.copies), and 48 names
# of 63 characters keep a receipt's payload well inside the 4 KiB its decoding allows.
MAX_FORWARDED = 48
_LIMITS = DecodeLimits(max_bytes=64 * 1024, max_bin_len=4096, max_array_len=MAX_IDS)

NodeOfKey = Callable[[bytes], str]  # a signing key -> the (stable) id of the node it speaks for


def own_keys(node: SigningIdentity, others: NodeOfKey = node_id_from_public_key) -> NodeOfKey:
    """``node_of`` for what this node signs itself: its current key speaks for its node id
    (``others`` answers for any other key, such as the one that certified a member)."""
    return lambda key: node.node_id if key == node.public_key else others(key)


class InvalidRevocation(PeerProtocolError):
    """A revocation or receipt that is forged, malformed or not the origin's to give."""

    code = "invalid_revocation"


@dataclass(frozen=True)
class Revocation:
    revocation_id: str
    origin: str
    record_ids: tuple[str, ...]
    reason: str
    issued_at: int
    member: str
    envelope: bytes


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    revocation_id: str
    holder: str
    purged_at: int
    forwarded_to: tuple[str, ...]
    envelope: bytes


def _core(origin: str, ids: list[bytes], reason: str, issued_at: int) -> bytes:
    return pack([1, origin, ids, reason, issued_at])


@dataclass(frozen=True)
class Actor:
    """Who withdraws: a member (name, key, certificate), or nobody when consent expired and
    the node acts by itself (then name is empty and there is no member signature)."""

    name: str = ""
    key: SigningIdentity | None = None
    certificate: bytes = b""


def issue_revocation(
    node: SigningIdentity, actor: Actor, record_ids: list[str], reason: str, issued_at: int,
    node_of: NodeOfKey = node_id_from_public_key,
) -> Revocation:  # fmt: skip
    """Sign a revocation of ``record_ids`` (all versions and translations) by our node."""
    if reason not in REASONS:
        raise InvalidRevocation(f"unknown reason {reason!r} (reasons: {', '.join(REASONS)})")
    if actor.key is None and reason != "expired":
        raise InvalidRevocation("only an expired consent lets the node revoke by itself")
    ids = sorted(bytes.fromhex(record_id) for record_id in set(record_ids))
    core = _core(node.node_id, ids, reason, issued_at)
    member_signature = actor.key.sign(MEMBER_REVOCATION_CONTEXT, core) if actor.key else b""
    member, member_certificate = actor.name, actor.certificate
    payload = pack(
        [1, node.node_id, ids, reason, issued_at, member, member_certificate, member_signature]
    )
    return open_revocation(seal(node, REVOCATION_CONTEXT, payload).raw, own_keys(node, node_of))


def open_revocation(raw: bytes, node_of: NodeOfKey = node_id_from_public_key) -> Revocation:
    """Verify a revocation: node signature, origin = signer, member certificate and signature.

    ``node_of`` names the node a key speaks for: after a rotation a node signs with a later
    key (pass ``archive.key_store.node_for_key`` bound to the database)."""
    try:
        envelope = open_envelope(raw, REVOCATION_CONTEXT, _LIMITS)
        fields = unpack(envelope.payload, _LIMITS)
        version, origin, ids, reason, issued_at, member, certificate, member_signature = fields
        _check_shape(version, origin, ids, reason, issued_at, member, certificate, member_signature)
        if node_of(envelope.signer) != origin:
            raise InvalidRevocation("a revocation must be signed by the origin node it names")
        core = _core(origin, ids, reason, issued_at)
        if member or reason != "expired":  # only an expired consent lets the node act alone
            _check_member(origin, member, certificate, member_signature, core, node_of)
    except (CryptoError, InvalidNodeId, ValueError, TypeError) as error:
        raise InvalidRevocation(f"revocation does not verify: {error}") from error
    return Revocation(
        envelope.content_id.hex(),
        origin,
        tuple(i.hex() for i in ids),
        reason,
        issued_at,
        member,
        raw,
    )


def _check_shape(
    version: Any, origin: Any, ids: Any, reason: Any, issued_at: Any,
    member: Any, certificate: Any, signature: Any,
) -> None:  # fmt: skip
    """Every field of the right type before anything is computed from it."""
    if version != 1 or not isinstance(origin, str) or normalize_node_id(origin) != origin:
        raise InvalidRevocation("unsupported revocation format")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
        raise InvalidRevocation("a revocation names between 1 and 1000 records")
    if not all(isinstance(record_id, bytes) and len(record_id) == 32 for record_id in ids):
        raise InvalidRevocation("record ids in a revocation are 32 bytes each")
    if reason not in REASONS or type(issued_at) is not int:
        raise InvalidRevocation("a revocation needs a known reason and an integer time")
    if not (
        isinstance(member, str) and isinstance(certificate, bytes) and isinstance(signature, bytes)
    ):
        raise InvalidRevocation("malformed member fields")


def _check_member(
    origin: str, member: str, certificate: bytes, signature: bytes, core: bytes,
    node_of: NodeOfKey,
) -> None:  # fmt: skip
    cert = open_envelope(certificate, MEMBER_CONTEXT, _LIMITS)
    if node_of(cert.signer) != origin:
        raise InvalidRevocation("the member certificate is not from the origin node")
    _, cert_node, cert_name, member_key, _roles, _ = unpack(cert.payload, _LIMITS)
    if cert_node != origin or cert_name != member:
        raise InvalidRevocation("the member certificate names another member or node")
    verify_signature(member_key, MEMBER_REVOCATION_CONTEXT, core, signature)


def issue_receipt(
    node: SigningIdentity, revocation_id: str, purged_at: int, forwarded_to: list[str]
) -> Receipt:
    # Past the cap we still purge and forward to every one; the receipt names the first.
    forwarded_to = sorted(forwarded_to)[:MAX_FORWARDED]
    payload = pack([1, bytes.fromhex(revocation_id), node.node_id, purged_at, sorted(forwarded_to)])
    return open_receipt(seal(node, RECEIPT_CONTEXT, payload).raw, own_keys(node))


def open_receipt(raw: bytes, node_of: NodeOfKey = node_id_from_public_key) -> Receipt:
    """Verify a purge receipt: signed by the holder node it names (``node_of``: see
    :func:`open_revocation`)."""
    try:
        envelope = open_envelope(raw, RECEIPT_CONTEXT, _LIMITS)
        version, revocation_id, holder, purged_at, forwarded = unpack(envelope.payload, _LIMITS)
        if version != 1 or node_of(envelope.signer) != holder:
            raise InvalidRevocation("a receipt must be signed by the holder it names")
        if not isinstance(forwarded, list) or len(forwarded) > MAX_FORWARDED:
            raise InvalidRevocation(f"a receipt names at most {MAX_FORWARDED} forwarded nodes")
        forwarded_to = tuple(normalize_node_id(node_id) for node_id in forwarded)
        if not isinstance(purged_at, int) or len(revocation_id) != 32:
            raise InvalidRevocation("malformed receipt")
    except (CryptoError, InvalidNodeId, ValueError, TypeError) as error:
        raise InvalidRevocation(f"receipt does not verify: {error}") from error
    return Receipt(
        envelope.content_id.hex(), revocation_id.hex(), holder, purged_at, forwarded_to, raw
    )
