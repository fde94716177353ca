"""Invite codes and the pairing handshake, sans-IO.

An invite code carries the inviting node's id, its URL, a one-time secret and an expiry::

    rhz1-<base32 of (canonical msgpack [node id key, url, secret, expires] + check)>

A node that rotated its key (issue 15) adds its *current* key as a fifth item: the joiner pins
TLS to that key (the node id is the first key, which the node no longer presents) and checks
that the key history in the inviter's answer leads from the first key to it.

``check`` is the first 4 bytes of SHA-256 over a context and the msgpack bytes: a typo
anywhere in the code (node id, URL, secret) is caught here, before any network call, and
said as a typo, not as an attack. Base32 letters people confuse when reading aloud or typing
(``0``/``O``, ``1``/``I``, ``8``/``B``) are read as the letter; case and spaces do not matter.

The joiner names the invite by ``invite_id = SHA-256(secret)`` and proves it holds the
secret with an HMAC bound to both node ids (the secret itself never crosses the wire), so
the proof cannot be reused for another node. The inviter answers with a signature by its
node key over both ids, so the joiner knows it reached the node the code names even if
someone changed the URL on the way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

import sqlite_utils

from archive.db import transaction
from archive.key_store import current_key
from crypto.canonical import DecodeLimits, pack, unpack
from crypto.errors import CryptoError
from crypto.node_id import node_id_from_public_key, public_key_from_node_id
from crypto.signing import SigningIdentity, verify_signature
from federation.errors import InvalidInvite

PREFIX = "rhz1-"
SECRET_SIZE = 16
DEFAULT_TTL = 24 * 3600
PROOF_CONTEXT = b"rhizome/pair-proof/v1"
ACCEPT_CONTEXT = b"rhizome/pair-accept/v1"
CHECK_CONTEXT = b"rhizome/invite-check/v1"
CHECK_SIZE = 4
_LIMITS = DecodeLimits(max_bytes=2048, max_str_len=1024, max_bin_len=64, max_array_len=8)
_LOOK_ALIKE = str.maketrans({"0": "O", "1": "I", "8": "B"})
MISTYPED = (
    "this invite code is damaged or mistyped (a typo?): compare it with the original "
    "character by character, scan its QR code, or ask for a new one"
)


@dataclass(frozen=True)
class InviteCode:
    node_id: str
    url: str
    secret: bytes
    expires: int
    current_key: bytes = b""  # the inviter's key when the code was made, if not its first

    @property
    def key(self) -> bytes:
        """The key the inviter presents in TLS and signs its answer with."""
        return self.current_key or public_key_from_node_id(self.node_id)

    @property
    def invite_id(self) -> bytes:
        return invite_id(self.secret)


def invite_id(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def invite_check(payload: bytes) -> bytes:
    """The typo check appended to an invite code's bytes."""
    return hashlib.sha256(CHECK_CONTEXT + b"\x00" + payload).digest()[:CHECK_SIZE]


def encode_invite(code: InviteCode) -> str:
    first = public_key_from_node_id(code.node_id)
    fields: list[object] = [first, code.url, code.secret, code.expires]
    if code.current_key and code.current_key != first:  # codes of unrotated nodes stay short
        fields.append(code.current_key)
    payload = pack(fields)
    return PREFIX + base64.b32encode(payload + invite_check(payload)).decode("ascii").rstrip("=")


def decode_invite(text: str) -> InviteCode:
    """Parse an invite code as pasted or scanned; raise :class:`InvalidInvite` if mistyped."""
    cleaned = "".join(text.split())
    if not cleaned.lower().startswith(PREFIX):
        raise InvalidInvite(f"an invite code starts with {PREFIX!r}; paste the whole code")
    body = cleaned[len(PREFIX) :].upper().translate(_LOOK_ALIKE)
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as error:
        raise InvalidInvite(MISTYPED) from error
    payload, check = raw[:-CHECK_SIZE], raw[-CHECK_SIZE:]
    if len(raw) <= CHECK_SIZE or not hmac.compare_digest(check, invite_check(payload)):
        raise InvalidInvite(MISTYPED)
    try:
        value = unpack(payload, _LIMITS)
        key, url, secret, expires, *current = value
        if not (isinstance(url, str) and isinstance(secret, bytes) and isinstance(expires, int)):
            raise TypeError("field types")
        if len(secret) != SECRET_SIZE or not url.startswith(("http://", "https://")):
            raise ValueError("secret or url")
        current_key = _current_key(current)
        return InviteCode(node_id_from_public_key(key), url, secret, expires, current_key)
    except (ValueError, TypeError, CryptoError) as error:
        raise InvalidInvite(MISTYPED) from error


def _current_key(extra: list[object]) -> bytes:
    if not extra:
        return b""
    if len(extra) != 1 or not isinstance(extra[0], bytes) or len(extra[0]) != 32:
        raise ValueError("current key")
    return extra[0]


def pairing_proof(secret: bytes, inviter_id: str, joiner_id: str) -> bytes:
    """The joiner's proof that it holds the secret, bound to both node ids."""
    message = PROOF_CONTEXT + b"\x00" + f"{inviter_id}\n{joiner_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def acceptance_message(inviter_id: str, joiner_id: str, proof: bytes) -> bytes:
    return pack([inviter_id, joiner_id, proof])


def sign_acceptance(identity: SigningIdentity, joiner_id: str, proof: bytes) -> bytes:
    return identity.sign(ACCEPT_CONTEXT, acceptance_message(identity.node_id, joiner_id, proof))


def verify_acceptance(code: InviteCode, joiner_id: str, proof: bytes, signature: bytes) -> None:
    """Check the inviter's answer really comes from the node the code names: signed by the
    key the code names (its current key; the caller checks its key history leads there)."""
    try:
        verify_signature(
            code.key,
            ACCEPT_CONTEXT,
            acceptance_message(code.node_id, joiner_id, proof),
            signature,
        )
    except CryptoError as error:
        raise InvalidInvite(
            "the node at that URL is not the one the invite names; do not pair"
        ) from error


def create_invite(
    db: sqlite_utils.Database, node_id: str, url: str, now: int, ttl: int
) -> InviteCode:
    """A one-time invite naming this node, its URL and the key it presents now."""
    key = current_key(db, node_id)
    rotated = b"" if key == public_key_from_node_id(node_id) else key
    code = InviteCode(node_id, url, os.urandom(SECRET_SIZE), now + ttl, rotated)
    with transaction(db):
        db.execute(
            "INSERT INTO invites (invite_id, secret, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [code.invite_id, code.secret, now, code.expires],
        )
    return code


def redeem_invite(
    db: sqlite_utils.Database,
    invite: bytes,
    proof: bytes,
    inviter_id: str,
    joiner_id: str,
    now: int,
) -> None:
    """Check the joiner's proof and mark the invite used; call inside the transaction that
    adds the peer, so a failure leaves the invite unused."""
    row = db.execute(
        "SELECT secret, expires_at, used_at FROM invites WHERE invite_id = ?", [invite]
    ).fetchone()
    if row is None:
        raise InvalidInvite("unknown invite code (it may be from another node)")
    secret, expires_at, used_at = row
    if not hmac.compare_digest(pairing_proof(secret, inviter_id, joiner_id), proof):
        raise InvalidInvite("the proof does not match this invite code (forged or mistyped)")
    if used_at is not None:
        raise InvalidInvite("this invite code was already used; ask for a new one")
    if expires_at <= now:
        raise InvalidInvite("this invite code has expired; ask for a new one")
    db.execute(
        "UPDATE invites SET used_at = ?, used_by = ? WHERE invite_id = ?", [now, joiner_id, invite]
    )


def check_invite_known(db: sqlite_utils.Database, invite: bytes) -> None:
    """Raise :class:`InvalidInvite` unless ``invite`` names an invite we made: a primary-key
    lookup, cheap enough to run before a pairing body is read. Whether it is used or expired
    is told only after the proof is checked (:func:`redeem_invite`), as before."""
    row = db.execute("SELECT 1 FROM invites WHERE invite_id = ?", [invite]).fetchone()
    if row is None:
        raise InvalidInvite("unknown invite code (it may be from another node)")
