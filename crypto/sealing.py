"""Sealing bytes to a node: only the holder of that node's key can open them.

A bundle on a USB stick is encrypted with a sealed box (X25519 + XSalsa20-Poly1305, from
PyNaCl) to the receiving node's Ed25519 key converted to X25519. Whoever finds or seizes the
stick learns nothing but its length; the sender stays anonymous until the box is opened,
where the bundle's own signature names it.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.public
import nacl.signing

from crypto.errors import CryptoError
from crypto.node_id import public_key_from_node_id
from crypto.signing import SigningIdentity


class NotForThisNode(CryptoError):
    """The sealed data was made for another node (or is damaged): it cannot be opened here."""


def seal_to(node_id: str, data: bytes) -> bytes:
    """Encrypt ``data`` so that only node ``node_id`` can read it (with its first key)."""
    return seal_to_key(public_key_from_node_id(node_id), data)


def seal_to_key(public_key: bytes, data: bytes) -> bytes:
    """Encrypt ``data`` to one Ed25519 key: a node's current key after a key rotation."""
    verify_key = nacl.signing.VerifyKey(public_key)
    box = nacl.public.SealedBox(verify_key.to_curve25519_public_key())
    return bytes(box.encrypt(data))


def open_sealed(identity: SigningIdentity, sealed: bytes) -> bytes:
    """Decrypt data sealed to our node; raise :class:`NotForThisNode` otherwise."""
    private_key = identity.signing_key.to_curve25519_private_key()
    try:
        return bytes(nacl.public.SealedBox(private_key).decrypt(sealed))
    except nacl.exceptions.CryptoError as error:
        raise NotForThisNode("this data was sealed for another node, or it is damaged") from error
