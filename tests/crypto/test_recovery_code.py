"""The recovery code and Shamir shares of the recovery key."""

from __future__ import annotations

import itertools

import pytest

from crypto.recovery_code import (
    RecoveryCodeError,
    join_recovery_shares,
    recovery_code,
    recovery_key_from_code,
    split_recovery_key,
)
from crypto.signing import SigningIdentity

RECOVERY = SigningIdentity.from_seed(bytes(range(96, 128)))


def test_the_code_gives_the_key_back_and_catches_a_typo() -> None:
    code = recovery_code(RECOVERY)
    assert recovery_key_from_code(code.lower().replace("-", " ")).seed == RECOVERY.seed
    typo = ("B" if code[3] != "B" else "C").join((code[:3], code[4:]))
    with pytest.raises(RecoveryCodeError, match="mistyped"):
        recovery_key_from_code(typo)


def test_any_k_of_n_shares_give_the_key_back() -> None:
    shares = split_recovery_key(RECOVERY, 3, 5)
    assert len(shares) == 5 and all(share.startswith("3-of-5 #") for share in shares)
    for chosen in itertools.combinations(shares, 3):
        assert join_recovery_shares(list(chosen)).seed == RECOVERY.seed


def test_k_minus_one_shares_do_not_give_the_key() -> None:
    """The library's property (Shamir: fewer than k shares are independent of the secret),
    checked once: combining them is refused, and forcing it yields another key."""
    shares = split_recovery_key(RECOVERY, 3, 5)
    with pytest.raises(RecoveryCodeError, match="not enough"):
        join_recovery_shares(shares[:2])
    forced = [share.replace("3-of-5", "2-of-5") for share in shares[:2]]
    assert join_recovery_shares(forced).seed != RECOVERY.seed


def test_shares_of_different_splits_or_bad_text_are_refused() -> None:
    one, other = split_recovery_key(RECOVERY, 2, 3), split_recovery_key(RECOVERY, 2, 4)
    with pytest.raises(RecoveryCodeError, match="different splits"):
        join_recovery_shares([one[0], other[1]])
    with pytest.raises(RecoveryCodeError, match="not a share"):
        join_recovery_shares(["hello", one[1]])
    with pytest.raises(RecoveryCodeError, match="2 <= k <= n"):
        split_recovery_key(RECOVERY, 1, 3)
