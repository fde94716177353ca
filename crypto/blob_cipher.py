"""Attachment files encrypted at rest on a sealed node: XSalsa20-Poly1305 in 64 KiB units.

A sealed home's attachment files are encrypted with a key derived from its home key
(:func:`blob_key`, context ``rhizome/blob-key/v1``). A file is ``RZBLOB1\\n`` followed by
units, each the SecretBox of 64 KiB of the file (the last may be shorter): 24-byte nonce,
ciphertext, 16-byte tag. A unit's nonce is derived from the file's SHA-256 and the unit's
index: the file is content-addressed, so a (key, nonce) pair only ever seals the same bytes,
and a unit moved to another place or another file does not open. Units make any range
readable without the rest, and let a download be appended to as it arrives.
"""

from __future__ import annotations

import hashlib

import nacl.exceptions
import nacl.secret

from crypto.errors import CryptoError

BLOB_KEY_CONTEXT = b"rhizome/blob-key/v1"
MAGIC = b"RZBLOB1\n"
UNIT = 64 * 1024
OVERHEAD = nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES
SEALED_UNIT = UNIT + OVERHEAD


class BlobDamaged(CryptoError):
    """An attachment file does not open with this home's key: it is damaged, or it belongs to
    another home. Delete it; the next sync fetches it again from a peer that holds it."""


def blob_key(home_key: bytes) -> bytes:
    """The key of a sealed home's attachment files."""
    if len(home_key) != 32:
        raise ValueError("a home key is 32 bytes")
    return hashlib.blake2b(BLOB_KEY_CONTEXT, key=home_key, digest_size=32).digest()


def _nonce(digest: bytes, index: int) -> bytes:
    return hashlib.blake2b(digest + index.to_bytes(8, "big"), digest_size=24).digest()


def seal_units(key: bytes, digest: bytes, first: int, plain: bytes) -> bytes:
    """``plain`` sealed as the units ``first``, ``first + 1``, … of the file ``digest``."""
    box = nacl.secret.SecretBox(key)
    out = bytearray()
    for number, start in enumerate(range(0, len(plain), UNIT)):
        out += box.encrypt(plain[start : start + UNIT], _nonce(digest, first + number))
    return bytes(out)


def open_units(key: bytes, digest: bytes, first: int, sealed: bytes) -> bytes:
    """The plain bytes of consecutive sealed units starting at unit ``first``."""
    box = nacl.secret.SecretBox(key)
    out = bytearray()
    for number, start in enumerate(range(0, len(sealed), SEALED_UNIT)):
        unit = sealed[start : start + SEALED_UNIT]
        if unit[: box.NONCE_SIZE] != _nonce(digest, first + number):
            raise BlobDamaged("an attachment file's unit is out of place")
        try:
            out += box.decrypt(unit)
        except nacl.exceptions.CryptoError as error:
            raise BlobDamaged("an attachment file does not open with this home's key") from error
    return bytes(out)


def plain_size(sealed_size: int) -> int:
    """How many plain bytes a sealed file of ``sealed_size`` bytes holds."""
    body = max(0, sealed_size - len(MAGIC))
    full, rest = divmod(body, SEALED_UNIT)
    return full * UNIT + max(0, rest - OVERHEAD)


def unit_offset(index: int) -> int:
    """Where unit ``index`` starts in a sealed file."""
    return len(MAGIC) + index * SEALED_UNIT
