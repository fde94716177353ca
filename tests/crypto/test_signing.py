"""Ed25519 signatures over ``context || 0x00 || message``, with known answers."""

from __future__ import annotations

import hashlib

import pytest

from crypto.errors import BadSignature, CryptoError
from crypto.signing import (
    EVENT_CONTEXT,
    RECORD_CONTEXT,
    SIGNATURE_SIZE,
    SigningIdentity,
    content_id,
    signed_message,
    verify_signature,
)
from tests.conftest import SEED_A, SEED_B

MESSAGE = b"Rhizome known-answer message"
# Pinned once; Ed25519 signatures are deterministic, so these never change.
SIGNATURE_A_RECORD = bytes.fromhex(
    "8b875a6d7b688bf1753eb4501c51cca9151fe1ecca180ca4d052382dcf24f73e"
    "1fb58407eb805d7bbc3f7eb92fa4d5af2d0c2db659b4eb6709d04965b18e330f"
)
CONTENT_ID_RECORD = bytes.fromhex(
    "6ee74aae2adb54e8054f89899d067300ed0b3a0e5bc43fbca93e2b19b2c4fbdb"
)
CONTENT_ID_EVENT = bytes.fromhex("f208137518a4280a124b0eda9a9fc4e55b71062ccff4501ad6ec9faf1d8524d6")


@pytest.fixture
def signer_a() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_A)


@pytest.fixture
def signer_b() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_B)


def test_contexts_are_the_documented_names() -> None:
    assert RECORD_CONTEXT == b"rhizome/record/v1"
    assert EVENT_CONTEXT == b"rhizome/event/v1"


def test_signed_bytes_are_context_nul_message() -> None:
    assert signed_message(RECORD_CONTEXT, MESSAGE) == b"rhizome/record/v1\x00" + MESSAGE


def test_known_answer_signature(signer_a: SigningIdentity) -> None:
    assert signer_a.sign(RECORD_CONTEXT, MESSAGE) == SIGNATURE_A_RECORD


def test_known_answer_signature_verifies(signer_a: SigningIdentity) -> None:
    verify_signature(signer_a.public_key, RECORD_CONTEXT, MESSAGE, SIGNATURE_A_RECORD)


def test_known_answer_content_id() -> None:
    assert content_id(RECORD_CONTEXT, MESSAGE) == CONTENT_ID_RECORD
    assert hashlib.sha256(b"rhizome/record/v1\x00" + MESSAGE).digest() == CONTENT_ID_RECORD


def test_content_id_depends_on_the_context() -> None:
    assert content_id(EVENT_CONTEXT, MESSAGE) == CONTENT_ID_EVENT
    assert CONTENT_ID_EVENT != CONTENT_ID_RECORD


def test_seed_round_trip(signer_a: SigningIdentity) -> None:
    assert signer_a.seed == SEED_A
    assert SigningIdentity.from_seed(signer_a.seed).public_key == signer_a.public_key


def test_a_signature_for_events_never_verifies_as_a_record(signer_a: SigningIdentity) -> None:
    signature = signer_a.sign(EVENT_CONTEXT, MESSAGE)
    verify_signature(signer_a.public_key, EVENT_CONTEXT, MESSAGE, signature)
    with pytest.raises(BadSignature):
        verify_signature(signer_a.public_key, RECORD_CONTEXT, MESSAGE, signature)


def test_context_and_message_cannot_trade_bytes(signer_a: SigningIdentity) -> None:
    # "rhizome/record/v1" + "\x00x" must not equal "rhizome/record/v" + "1\x00x" etc.
    signature = signer_a.sign(b"rhizome/record/v1", b"x")
    with pytest.raises(BadSignature):
        verify_signature(signer_a.public_key, b"rhizome/record/v", b"1\x00x", signature)


def test_wrong_key_fails(signer_a: SigningIdentity, signer_b: SigningIdentity) -> None:
    signature = signer_a.sign(RECORD_CONTEXT, MESSAGE)
    with pytest.raises(BadSignature):
        verify_signature(signer_b.public_key, RECORD_CONTEXT, MESSAGE, signature)


def test_changed_message_fails(signer_a: SigningIdentity) -> None:
    with pytest.raises(BadSignature):
        verify_signature(signer_a.public_key, RECORD_CONTEXT, MESSAGE + b".", SIGNATURE_A_RECORD)


@pytest.mark.parametrize("size", [0, SIGNATURE_SIZE - 1, SIGNATURE_SIZE + 1])
def test_signature_of_wrong_size_fails(signer_a: SigningIdentity, size: int) -> None:
    with pytest.raises(BadSignature):
        verify_signature(signer_a.public_key, RECORD_CONTEXT, MESSAGE, bytes(size))


@pytest.mark.parametrize("public_key", [b"", bytes(31), bytes(33)])
def test_malformed_public_key_fails_as_bad_signature(public_key: bytes) -> None:
    with pytest.raises(BadSignature):
        verify_signature(public_key, RECORD_CONTEXT, MESSAGE, SIGNATURE_A_RECORD)


def test_nul_in_context_is_refused_everywhere(signer_a: SigningIdentity) -> None:
    context = b"rhizome/record\x00v1"
    with pytest.raises(CryptoError, match="NUL"):
        signer_a.sign(context, MESSAGE)
    with pytest.raises(CryptoError, match="NUL"):
        content_id(context, MESSAGE)
    with pytest.raises(CryptoError, match="NUL"):
        verify_signature(signer_a.public_key, context, MESSAGE, SIGNATURE_A_RECORD)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_seed_must_be_32_bytes(size: int) -> None:
    with pytest.raises(CryptoError):
        SigningIdentity.from_seed(bytes(size))
