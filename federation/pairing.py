"""Joining a peer with its invite code (the client side of pairing)."""

from __future__ import annotations

from typing import Any

from archive.db import transaction
from archive.event_log import append_event
from crypto.errors import InvalidNodeId
from crypto.node_id import normalize_node_id
from federation import endpoints
from federation.client import PeerClient
from federation.errors import InvalidInvite, PeerProtocolError, PeerRefused
from federation.invites import InviteCode, decode_invite, pairing_proof, verify_acceptance
from federation.local import LocalNode
from federation.peers import Peer, get_peer, save_peer
from federation.workers import in_worker

# Names the invite before the body is read, so the inviter can refuse strangers cheaply.
INVITE_HEADER = "Rhizome-Invite"


async def join_with_invite(client: PeerClient, code_text: str) -> Peer:
    """Redeem an invite code: prove the secret, check who answered, trust each other."""
    local = client.local
    code = decode_invite(code_text)
    if code.expires <= local.now():
        raise InvalidInvite("this invite code has expired; ask for a new one")
    if code.node_id == local.node_id:
        raise InvalidInvite("this is our own invite code; give it to the other hub")
    proof = pairing_proof(code.secret, code.node_id, local.node_id)
    request = {
        "invite": code.invite_id,
        "proof": proof,
        "node_id": local.node_id,
        "name": local.name,
        "region": local.region,
        "url": local.url,
    }
    try:
        answer = await client.call(
            endpoints.PAIR,
            request,
            recipient=code.node_id,
            base_url=code.url,
            extra_headers={INVITE_HEADER: code.invite_id.hex()},
        )  # fmt: skip
    except PeerRefused as error:
        # A node that is not the one named refuses a request signed for another recipient.
        if error.status == 401 and "wrong_recipient" in str(error):
            raise InvalidInvite(
                "the node at that URL is not the one the invite names; do not pair"
            ) from error
        if error.code == InvalidInvite.code:  # its reason, and what to do, without the code
            remedy = "" if "ask for a new one" in error.message else "; ask for a new one"
            raise InvalidInvite(
                f"the other hub did not accept this code: {error.message}{remedy}"
            ) from error
        raise
    try:
        answered_by = normalize_node_id(answer["node_id"])
    except InvalidNodeId as error:
        raise PeerProtocolError("the inviting node answered with a malformed node id") from error
    if answered_by != code.node_id:
        raise InvalidInvite("the node at that URL is not the one the invite names; do not pair")
    return await in_worker(local, _trust, code, proof, answer)


def _trust(local: LocalNode, code: InviteCode, proof: bytes, answer: dict[str, Any]) -> Peer:
    """Check the inviter's signature on our proof, then add it as a peer (worker thread:
    a verification and a write)."""
    verify_acceptance(code, local.node_id, proof, answer["signature"])
    now = local.now()
    with transaction(local.db):
        save_peer(local.db, code.node_id, answer["name"], answer["region"], code.url, now)
        append_event(local.db, local.identity, "peer.added", code.node_id, {"via": "code"}, now)
    peer = get_peer(local.db, code.node_id)
    assert peer is not None
    return peer
