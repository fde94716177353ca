"""Keyed fingerprints: equal inputs give equal values, but only under the same key.

A fingerprint lets a node recognise what it has seen before (a lesson file imported again)
without keeping the thing itself; keyed with HMAC-SHA-256 and a secret of the node, it
matches nothing outside that node, and the context keeps one kind of fingerprint from ever
equalling another kind.
"""

from __future__ import annotations

import hashlib
import hmac

from crypto.errors import CryptoError

MIN_KEY_BYTES = 16


def keyed_fingerprint(key: bytes, context: bytes, data: bytes) -> bytes:
    """The 32-byte HMAC-SHA-256 of ``context || 0x00 || data`` under ``key``."""
    if len(key) < MIN_KEY_BYTES:
        raise CryptoError(f"a fingerprint key needs at least {MIN_KEY_BYTES} bytes")
    if b"\x00" in context:
        raise CryptoError("a fingerprint context must not contain a NUL byte")
    return hmac.new(key, context + b"\x00" + data, hashlib.sha256).digest()
