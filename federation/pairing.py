"""Joining a peer with its invite code (the client side of pairing)."""

from __future__ import annotations

from typing import Any

from archive.db import transaction
from archive.event_log import append_event
from crypto.errors import InvalidNodeId
from crypto.key_statements import InvalidKeyStatement
from crypto.node_id import normalize_node_id
from federation import endpoints
from federation.client import PeerClient
from federation.errors import InvalidInvite, PeerProtocolError, PeerRefused
from federation.invites import InviteCode, decode_invite, pairing_proof, verify_acceptance
from federation.key_exchange import history_at_pairing, keep_paired_history, own_history
from federation.local import LocalNode
from federation.peers import Peer, get_peer, save_peer
from federation.purposes_announce import check_paired, declaration_for_pairing, take_paired
from federation.tls_pin import PeerNotPinned
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
        "statements": own_history(local),
        # Our signed purposes declaration (federation/purposes.py): a read and a signature.
        "purposes": await in_worker(local, declaration_for_pairing),
    }
    try:
        answer = await client.call(
            endpoints.PAIR,
            request,
            recipient=code.node_id,
            base_url=code.url,
            extra_headers={INVITE_HEADER: code.invite_id.hex()},
            tls_keys=frozenset({code.key}),  # the key the inviter presents now (its code's)
        )  # fmt: skip
    except PeerNotPinned as error:
        raise PeerNotPinned(
            f"{error} (or the other hub changed its key after it made this code: ask it for "
            "a new one)"
        ) from error
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
    return await in_worker(local, _keep_inviter, code, proof, answer)


def _keep_inviter(local: LocalNode, code: InviteCode, proof: bytes, answer: dict[str, Any]) -> Peer:
    """Check the inviter's answer (its key history leads from the code's node id to the key
    we pinned, and that key signed the acceptance), then add it with its history."""
    raws = list(answer["statements"])
    try:
        history = history_at_pairing(code.node_id, code.key, raws, local.now())
    except InvalidKeyStatement as error:
        raise InvalidInvite(
            f"the inviting node's key history does not check out ({error}); do not pair"
        ) from error
    verify_acceptance(code, local.node_id, proof, answer["signature"])
    # The inviter's declared purposes, signed by the key the code pins, as the acceptance.
    declared = answer.get("purposes")
    check_paired(declared, code.node_id, code.key)
    now = local.now()
    with transaction(local.db):
        save_peer(local.db, code.node_id, answer["name"], answer["region"], code.url, now)
        keep_paired_history(local, code.node_id, history)
        append_event(local.db, local.identity, "peer.added", code.node_id, {"via": "code"}, now)
        take_paired(local, code.node_id, declared, code.key)
    peer = get_peer(local.db, code.node_id)
    assert peer is not None
    return peer
