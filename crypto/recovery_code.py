"""The recovery key on paper: a code to type back, and k-of-n shares for stewards.

The recovery key (crypto/key_statements.py) is an Ed25519 key whose seed never rests in the
node's home. It is shown once, at ``init`` or at the first rotation, as a **recovery code**:
the 32-byte seed in the node-id spelling (base32 in eight groups of seven, four Luhn check
characters, :mod:`crypto.node_id`), so a mistyped character is caught before anything is
signed, and as a QR code of the same text to print.

Or it is split among stewards with Shamir secret sharing, as implemented by pycryptodome
(``Crypto.Protocol.SecretSharing.Shamir``, GF(2^128)): that library shares 16-byte secrets,
so the seed is split as two halves with the same k and n, as its documentation shows for
longer secrets, and share *i* holds both halves' share *i*. Fewer than k shares say nothing
about the seed (the scheme's property; tests/crypto/test_recovery_code.py checks that k-1
shares do not give it back).
"""

from __future__ import annotations

import re

from Crypto.Protocol.SecretSharing import Shamir

from crypto.errors import CryptoError, InvalidNodeId
from crypto.node_id import node_id_from_public_key, public_key_from_node_id
from crypto.signing import SEED_SIZE, SigningIdentity

MAX_SHARES = 16  # Shamir over GF(2^128) with small indexes; stewards are a handful
_SHARE = re.compile(r"^\s*(\d+)-of-(\d+)\s+#(\d+)\s*:\s*(.+)$")


class RecoveryCodeError(CryptoError):
    """A recovery code or share is mistyped, or the shares do not belong together.

    Type it again from the paper; a share looks like ``2-of-3 #1: ABCDEFG-...``. With shares,
    you need as many different ones as the first number says."""

    code = "bad_recovery_code"


def recovery_code(recovery: SigningIdentity) -> str:
    """The recovery key's seed, spelled like a node id (with its check characters)."""
    return node_id_from_public_key(recovery.seed)


def recovery_key_from_code(text: str) -> SigningIdentity:
    try:
        return SigningIdentity.from_seed(public_key_from_node_id(text))
    except InvalidNodeId as error:
        raise RecoveryCodeError(f"recovery code: {error}") from error


def split_recovery_key(recovery: SigningIdentity, needed: int, shares: int) -> list[str]:
    """``shares`` texts, any ``needed`` of which give the recovery key back."""
    if not 2 <= needed <= shares <= MAX_SHARES:
        raise RecoveryCodeError(
            f"shares: need 2 <= k <= n <= {MAX_SHARES} (for example 2-of-3), "
            f"not {needed}-of-{shares}"
        )
    seed = recovery.seed
    low = Shamir.split(needed, shares, seed[:16])
    high = Shamir.split(needed, shares, seed[16:])
    return [
        f"{needed}-of-{shares} #{index}: {node_id_from_public_key(low_share + high_share)}"
        for (index, low_share), (_, high_share) in zip(low, high, strict=True)
    ]


def join_recovery_shares(texts: list[str]) -> SigningIdentity:
    """The recovery key from ``needed`` (or more) shares typed back."""
    parsed = [_share(text) for text in texts]
    needed = {share[0] for share in parsed}
    if len(needed) != 1 or len({share[1] for share in parsed}) != 1:
        raise RecoveryCodeError("these shares come from different splits (k-of-n differs)")
    indexes = {share[2] for share in parsed}
    if len(indexes) < needed.pop():
        raise RecoveryCodeError(f"{len(indexes)} different shares are not enough")
    low = [(index, data[:16]) for _, _, index, data in parsed]
    high = [(index, data[16:]) for _, _, index, data in parsed]
    seed = Shamir.combine(low) + Shamir.combine(high)
    assert len(seed) == SEED_SIZE
    return SigningIdentity.from_seed(seed)


def _share(text: str) -> tuple[int, int, int, bytes]:
    match = _SHARE.match(text)
    if match is None:
        raise RecoveryCodeError(f"not a share: {text[:20]!r}… (shares look like 2-of-3 #1: …)")
    needed, total, index = (int(match.group(i)) for i in (1, 2, 3))
    if not 1 <= index <= total:
        raise RecoveryCodeError(f"share #{index} of {total} does not exist")
    try:
        return needed, total, index, public_key_from_node_id(match.group(4))
    except InvalidNodeId as error:
        raise RecoveryCodeError(f"share #{index}: {error}") from error
