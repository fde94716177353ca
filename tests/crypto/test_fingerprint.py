"""Keyed fingerprints: a known answer, and keys and contexts that keep them apart."""

from __future__ import annotations

import pytest

from crypto.errors import CryptoError
from crypto.fingerprint import keyed_fingerprint

KEY = bytes(range(32))


def test_a_known_answer() -> None:
    assert keyed_fingerprint(KEY, b"rhizome/test/v1", b"abc").hex() == (
        "806db0b488b9b72b817ae08fe1f2629c380f7486f83fbaff763b98d5206600e5"
    )


def test_another_key_or_context_gives_another_value() -> None:
    base = keyed_fingerprint(KEY, b"rhizome/a/v1", b"same")
    assert keyed_fingerprint(bytes(32), b"rhizome/a/v1", b"same") != base
    assert keyed_fingerprint(KEY, b"rhizome/b/v1", b"same") != base
    # The separator keeps (context, data) pairs from sliding into each other.
    assert keyed_fingerprint(KEY, b"rhizome/a", b"/v1same") != base


def test_a_short_key_or_a_nul_in_the_context_is_refused() -> None:
    with pytest.raises(CryptoError):
        keyed_fingerprint(b"short", b"rhizome/a/v1", b"x")
    with pytest.raises(CryptoError):
        keyed_fingerprint(KEY, b"rhizome\x00a", b"x")
