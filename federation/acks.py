"""Signed acknowledgements of outbox items, sans-IO: build one, open one.

A node that received purge receipts from a peer (pushed to it, or pulled from the peer's
outbox) answers with an *ack*: an envelope signed by the acking node (context
``rhizome/ack/v1``) over the canonical array::

    [1, acker node id, recipient node id, [receipt ids, 32 bytes each, sorted], acked at]

Only the peer named as recipient may use it, and only for its own outbox rows addressed to
the acker: an ack cannot be turned against another node, and replaying one removes nothing
that is still waiting (the rows it names are gone already). The ack names only receipts the
acker stored or knew already ("processed durably"), never ones it could not verify.

Revocations need no ack of this kind: a holder's signed purge receipt for a revocation is
its acknowledgement (see :mod:`federation.outbox_state`).
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto.canonical import DecodeLimits, pack, unpack
from crypto.envelope import open_envelope, seal
from crypto.errors import CryptoError, InvalidNodeId
from crypto.node_id import node_id_from_public_key, normalize_node_id
from crypto.signing import SigningIdentity
from federation.errors import PeerProtocolError
from federation.revocation import NodeOfKey, own_keys

ACK_CONTEXT = b"rhizome/ack/v1"
MAX_ACKED = 1_000  # the most receipts one message carries (wire.MAX_RECEIPTS_PER_MESSAGE)
_LIMITS = DecodeLimits(max_bytes=64 * 1024, max_bin_len=40 * 1024, max_array_len=MAX_ACKED)


class InvalidAck(PeerProtocolError):
    """An acknowledgement that is forged, malformed, or meant for another node."""

    code = "invalid_ack"


@dataclass(frozen=True)
class Ack:
    acker: str
    recipient: str
    receipt_ids: tuple[str, ...]
    acked_at: int
    envelope: bytes


def issue_ack(node: SigningIdentity, recipient: str, receipt_ids: list[str], acked_at: int) -> Ack:
    """Sign that we processed these receipts from ``recipient`` (each id once)."""
    if len(set(receipt_ids)) > MAX_ACKED:
        raise InvalidAck(f"an ack names at most {MAX_ACKED} receipts")
    ids = sorted(bytes.fromhex(receipt_id) for receipt_id in set(receipt_ids))
    payload = pack([1, node.node_id, normalize_node_id(recipient), ids, acked_at])
    return open_ack(seal(node, ACK_CONTEXT, payload).raw, node.node_id, recipient, own_keys(node))


def open_ack(
    raw: bytes, acker: str, recipient: str, node_of: NodeOfKey = node_id_from_public_key
) -> Ack:
    """Verify an ack: signed by ``acker`` (the peer we talk to), addressed to ``recipient``
    (us), well formed. Raises :class:`InvalidAck`."""
    try:
        envelope = open_envelope(raw, ACK_CONTEXT, _LIMITS)
        version, signed_by, signed_for, ids, acked_at = unpack(envelope.payload, _LIMITS)
        if version != 1 or node_of(envelope.signer) != signed_by:
            raise InvalidAck("an ack must be signed by the node it names")
        if not isinstance(ids, list) or not all(
            isinstance(item, bytes) and len(item) == 32 for item in ids
        ):
            raise InvalidAck("an ack names receipt ids of 32 bytes each")
        if type(acked_at) is not int:
            raise InvalidAck("an ack needs an integer time")
        if signed_by != normalize_node_id(acker):
            raise InvalidAck("the ack is signed by another node than the peer")
        if not isinstance(signed_for, str) or signed_for != normalize_node_id(recipient):
            raise InvalidAck("the ack is meant for another node")
    except (CryptoError, InvalidNodeId, ValueError, TypeError) as error:
        raise InvalidAck(f"ack does not verify: {error}") from error
    return Ack(signed_by, signed_for, tuple(item.hex() for item in ids), acked_at, raw)
