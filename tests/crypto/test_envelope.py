"""Signed envelopes: ``[1, signer, payload, signature]``; any changed byte is refused."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.canonical import pack, unpack
from crypto.envelope import ENVELOPE_VERSION, open_envelope, seal
from crypto.errors import BadSignature, CryptoError, MalformedData
from crypto.signing import EVENT_CONTEXT, RECORD_CONTEXT, SigningIdentity
from tests.conftest import SEED_A, SEED_B

IDENTITY_A = SigningIdentity.from_seed(SEED_A)
IDENTITY_B = SigningIdentity.from_seed(SEED_B)
PAYLOAD = pack({"title": "Safety debrief checklist", "language": "en", "n": 1})
SEALED = seal(IDENTITY_A, RECORD_CONTEXT, PAYLOAD)
# Known answers, pinned once: the content id of PAYLOAD in the record context, and the
# SHA-256 of the whole envelope (Ed25519 is deterministic, so the bytes never change).
CONTENT_ID = bytes.fromhex("048bf343c446138597b422159095a9b624cb41efe2c5e4361bd16f5b8e8213fa")
ENVELOPE_SHA256 = "c04e44d83bdec3d15af1b271e222abda853fc018da758898f3d12cb0895ecd70"


def test_seal_then_open_round_trip() -> None:
    opened = open_envelope(SEALED.raw, RECORD_CONTEXT)
    assert opened == SEALED
    assert opened.payload == PAYLOAD
    assert opened.signer == IDENTITY_A.public_key


def test_envelope_layout_is_version_signer_payload_signature() -> None:
    assert unpack(SEALED.raw) == [
        ENVELOPE_VERSION,
        IDENTITY_A.public_key,
        PAYLOAD,
        IDENTITY_A.sign(RECORD_CONTEXT, PAYLOAD),
    ]


def test_known_answer_envelope() -> None:
    assert hashlib.sha256(SEALED.raw).hexdigest() == ENVELOPE_SHA256


def test_content_id_is_sha256_of_the_signed_bytes() -> None:
    assert SEALED.content_id == CONTENT_ID
    assert hashlib.sha256(b"rhizome/record/v1\x00" + PAYLOAD).digest() == CONTENT_ID
    assert seal(IDENTITY_B, RECORD_CONTEXT, PAYLOAD).content_id == CONTENT_ID  # not the signer
    assert seal(IDENTITY_A, EVENT_CONTEXT, PAYLOAD).content_id != CONTENT_ID


def test_sealing_is_deterministic() -> None:
    assert seal(IDENTITY_A, RECORD_CONTEXT, PAYLOAD).raw == SEALED.raw


def test_opening_in_another_context_fails() -> None:
    with pytest.raises(BadSignature):
        open_envelope(SEALED.raw, EVENT_CONTEXT)


def test_swapping_in_another_signer_fails() -> None:
    forged = pack([ENVELOPE_VERSION, IDENTITY_B.public_key, PAYLOAD, SEALED.signature])
    with pytest.raises(BadSignature):
        open_envelope(forged, RECORD_CONTEXT)


@pytest.mark.parametrize(
    "value",
    [
        {"v": 1},
        [ENVELOPE_VERSION, IDENTITY_A.public_key, PAYLOAD],
        [ENVELOPE_VERSION, IDENTITY_A.public_key, PAYLOAD, SEALED.signature, b""],
        [2, IDENTITY_A.public_key, PAYLOAD, SEALED.signature],
        [ENVELOPE_VERSION, IDENTITY_A.public_key[:31], PAYLOAD, SEALED.signature],
        [ENVELOPE_VERSION, IDENTITY_A.node_id, PAYLOAD, SEALED.signature],
        [ENVELOPE_VERSION, IDENTITY_A.public_key, "text payload", SEALED.signature],
        [ENVELOPE_VERSION, IDENTITY_A.public_key, PAYLOAD, SEALED.signature[:63]],
        [ENVELOPE_VERSION, IDENTITY_A.public_key, PAYLOAD, None],
    ],
    ids=[
        "map",
        "three-items",
        "five-items",
        "version-2",
        "short-signer",
        "signer-as-text",
        "payload-as-text",
        "short-signature",
        "no-signature",
    ],
)
def test_envelopes_of_the_wrong_shape_are_malformed(value: object) -> None:
    with pytest.raises(MalformedData):
        open_envelope(pack(value), RECORD_CONTEXT)


def _flipped(raw: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(raw)
    changed[position] ^= mask
    return bytes(changed)


@settings(max_examples=100)
@given(data=st.data())
def test_flipping_any_bit_makes_open_fail(data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(SEALED.raw) - 1), "position")
    bit = data.draw(st.integers(min_value=0, max_value=7), "bit")
    with pytest.raises(CryptoError):
        open_envelope(_flipped(SEALED.raw, position, 1 << bit), RECORD_CONTEXT)


@pytest.mark.parametrize("position", range(len(SEALED.raw)))
def test_changing_any_byte_makes_open_fail(position: int) -> None:
    for mask in (0x01, 0x80, 0xFF):
        with pytest.raises(CryptoError):
            open_envelope(_flipped(SEALED.raw, position, mask), RECORD_CONTEXT)


@pytest.mark.parametrize("cut", [0, 1, 10, len(SEALED.raw) - 1])
def test_truncated_envelope_fails(cut: int) -> None:
    with pytest.raises(MalformedData):
        open_envelope(SEALED.raw[:cut], RECORD_CONTEXT)


def test_trailing_bytes_fail() -> None:
    with pytest.raises(MalformedData):
        open_envelope(SEALED.raw + b"\x00", RECORD_CONTEXT)
