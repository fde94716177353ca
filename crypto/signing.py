"""Ed25519 signing with domain separation.

Every signature Rhizome makes covers ``context || 0x00 || message``, where the context names
what is signed (``rhizome/record/v1``, ``rhizome/event/v1``, …). A signature made for one
purpose therefore never verifies as another: an event-log entry cannot be replayed as a
record, whatever its bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from crypto.errors import BadSignature, CryptoError
from crypto.node_id import node_id_from_public_key

RECORD_CONTEXT = b"rhizome/record/v1"
EVENT_CONTEXT = b"rhizome/event/v1"

SEED_SIZE = 32
SIGNATURE_SIZE = 64


def signed_message(context: bytes, message: bytes) -> bytes:
    """The exact bytes an Ed25519 signature covers."""
    if b"\x00" in context:
        raise CryptoError("a signing context must not contain a NUL byte")
    return context + b"\x00" + message


def content_id(context: bytes, message: bytes) -> bytes:
    """The 32-byte id of signed content: SHA-256 of the bytes the signature covers."""
    return hashlib.sha256(signed_message(context, message)).digest()


@dataclass(frozen=True)
class SigningIdentity:
    """A key pair that signs: a node's, later also a member's.

    After a key rotation (crypto/key_history.py) a node signs with a later key but is still
    named by its first key: ``first_key`` holds that key, and :attr:`node_id` names it.
    """

    signing_key: nacl.signing.SigningKey
    first_key: bytes = b""  # the node's first key when this key is a later one

    @classmethod
    def generate(cls) -> SigningIdentity:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes, first_key: bytes = b"") -> SigningIdentity:
        if len(seed) != SEED_SIZE:
            raise CryptoError(f"an Ed25519 seed is {SEED_SIZE} bytes, not {len(seed)}")
        signing_key = nacl.signing.SigningKey(seed)
        if first_key == bytes(signing_key.verify_key):
            first_key = b""
        return cls(signing_key, first_key)

    @property
    def seed(self) -> bytes:
        return bytes(self.signing_key)

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def node_key(self) -> bytes:
        """The key that names the node this key signs for: its first key."""
        return self.first_key or self.public_key

    @property
    def node_id(self) -> str:
        """The node's stable id (its first key's), whichever key signs today."""
        return node_id_from_public_key(self.node_key)

    @property
    def key_id(self) -> str:
        """This very key, spelled as a node id (what a signed request names as keyid)."""
        return node_id_from_public_key(self.public_key)

    def sign(self, context: bytes, message: bytes) -> bytes:
        """A 64-byte signature over ``message`` in ``context``."""
        return self.signing_key.sign(signed_message(context, message)).signature


def verify_signature(public_key: bytes, context: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`BadSignature` unless ``signature`` is ``public_key``'s over the message."""
    if len(signature) != SIGNATURE_SIZE:
        raise BadSignature(f"a signature is {SIGNATURE_SIZE} bytes, not {len(signature)}")
    try:
        verify_key = nacl.signing.VerifyKey(public_key)
        verify_key.verify(signed_message(context, message), signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError) as error:
        raise BadSignature("signature does not verify") from error
