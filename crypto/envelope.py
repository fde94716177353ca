"""Signed envelopes: canonical bytes plus who signed them and the signature.

An envelope is the canonical msgpack array ``[1, signer, payload, signature]``: ``signer`` is
the 32-byte Ed25519 public key, ``payload`` the canonical bytes of the signed value and
``signature`` covers ``context || 0x00 || payload``. The content id is the SHA-256 of those
signed bytes, so it changes with any byte of the payload and with the context.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto.canonical import DEFAULT_LIMITS, DecodeLimits, unpack
from crypto.canonical import pack as pack_canonical
from crypto.errors import CryptoError, MalformedData
from crypto.signing import SIGNATURE_SIZE, SigningIdentity, content_id, verify_signature

ENVELOPE_VERSION = 1


@dataclass(frozen=True)
class Envelope:
    """A verified envelope: only :func:`open_envelope` and :func:`seal` make these."""

    signer: bytes
    payload: bytes
    signature: bytes
    content_id: bytes
    raw: bytes


def seal(identity: SigningIdentity, context: bytes, payload: bytes) -> Envelope:
    """Sign ``payload`` (already canonical bytes) in ``context``."""
    signature = identity.sign(context, payload)
    raw = pack_canonical([ENVELOPE_VERSION, identity.public_key, payload, signature])
    return Envelope(identity.public_key, payload, signature, content_id(context, payload), raw)


def open_envelope(raw: bytes, context: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Envelope:
    """Decode and verify an envelope; raise :class:`MalformedData` or ``BadSignature``."""
    value = unpack(raw, limits)
    if not isinstance(value, list) or len(value) != 4:
        raise MalformedData("an envelope is an array of four items")
    version, signer, payload, signature = value
    if version != ENVELOPE_VERSION:
        raise MalformedData(f"envelope version {version!r} is not supported")
    if not isinstance(signer, bytes) or len(signer) != 32:
        raise MalformedData("envelope signer must be a 32-byte key")
    if not isinstance(payload, bytes):
        raise MalformedData("envelope payload must be bytes")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
        raise MalformedData(f"envelope signature must be {SIGNATURE_SIZE} bytes")
    verify_signature(signer, context, payload, signature)
    return Envelope(signer, payload, signature, content_id(context, payload), raw)


def claimed_content_id(
    raw: bytes, context: bytes, limits: DecodeLimits = DEFAULT_LIMITS
) -> bytes | None:
    """The id an envelope's payload would have, *without* checking the signature (None if the
    bytes are no envelope). For matching answers to requests; verify before trusting."""
    try:
        value = unpack(raw, limits)
    except CryptoError:
        return None
    if not isinstance(value, list) or len(value) != 4 or not isinstance(value[2], bytes):
        return None
    return content_id(context, value[2])
