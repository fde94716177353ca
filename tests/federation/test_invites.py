"""Invite codes and the pairing handshake (issue 3, "Pairing and peers").

A code carries the inviter's id, URL, a one-time secret and an expiry. The joiner proves it
holds the secret with an HMAC bound to both node ids; the inviter answers with a signature
over both ids. Known answers are computed here from the published construction, not read
back from the code under test.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import string
from pathlib import Path

import msgpack
import nacl.signing
import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.db import transaction
from crypto.signing import SigningIdentity
from federation.errors import InvalidInvite
from federation.invites import (
    ACCEPT_CONTEXT,
    DEFAULT_TTL,
    PREFIX,
    PROOF_CONTEXT,
    SECRET_SIZE,
    InviteCode,
    create_invite,
    decode_invite,
    encode_invite,
    invite_check,
    invite_id,
    pairing_proof,
    redeem_invite,
    sign_acceptance,
    verify_acceptance,
)
from node.database import open_database
from tests.conftest import SEED_A, SEED_B, START

INVITER = SigningIdentity.from_seed(SEED_A)
JOINER = SigningIdentity.from_seed(SEED_B)
STRANGER = SigningIdentity.from_seed(bytes(range(64, 96)))
SECRET = bytes(range(100, 100 + SECRET_SIZE))
URL = "http://127.0.0.1:8470"
CODE = InviteCode(INVITER.node_id, URL, SECRET, START + DEFAULT_TTL)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def code_text(payload: object) -> str:
    """An invite code around any msgpack value, as a forger would build one (the typo check
    is no secret: a forger computes it too)."""
    data = msgpack.packb(payload, use_bin_type=True)
    return PREFIX + base64.b32encode(data + invite_check(data)).decode("ascii").rstrip("=")


# --- Codes ------------------------------------------------------------------------------


def test_a_code_round_trips() -> None:
    text = encode_invite(CODE)
    assert text.startswith(PREFIX)
    assert set(text[len(PREFIX) :]) <= set(BASE32)
    assert decode_invite(text) == CODE


def test_the_code_is_base32_of_the_documented_array() -> None:
    payload = [INVITER.public_key, URL, SECRET, START + DEFAULT_TTL]
    assert encode_invite(CODE) == code_text(payload)


def test_the_invite_is_named_by_the_hash_of_its_secret() -> None:
    assert CODE.invite_id == invite_id(SECRET) == hashlib.sha256(SECRET).digest()


def test_lower_case_and_whitespace_are_tolerated() -> None:
    text = encode_invite(CODE)
    spaced = " \n".join(text[i : i + 8] for i in range(0, len(text), 8))
    assert decode_invite(text.lower()) == CODE
    assert decode_invite(f"  {spaced}\t\n") == CODE
    assert decode_invite(text.upper()) == CODE


def test_a_wrong_prefix_is_refused_with_the_remedy() -> None:
    body = encode_invite(CODE)[len(PREFIX) :]
    for text in ("rhz2-" + body, body, "rhz-" + body, ""):
        with pytest.raises(InvalidInvite, match="starts with 'rhz1-'; paste the whole code"):
            decode_invite(text)


def test_every_truncation_is_refused() -> None:
    text = encode_invite(CODE)
    for end in range(len(PREFIX), len(text)):
        with pytest.raises(InvalidInvite, match="damaged or mistyped"):
            decode_invite(text[:end])


def test_a_damaged_header_is_refused() -> None:
    text = encode_invite(CODE)
    first = len(PREFIX)
    for char in "A7Q":
        with pytest.raises(InvalidInvite, match="damaged or mistyped"):
            decode_invite(text[:first] + char + text[first + 1 :])


@pytest.mark.parametrize("where", ["first", "early", "middle", "late", "last"])
def test_one_typo_anywhere_is_caught_locally_as_a_typo(where: str) -> None:
    """Before any network call: a typo is never read as another node (no "do not pair")."""
    text = encode_invite(CODE)
    body_start = len(PREFIX)
    position = {
        "first": body_start, "early": body_start + 10, "middle": (body_start + len(text)) // 2,
        "late": len(text) - 10, "last": len(text) - 2,  # the final letter ends in padding bits
    }[where]  # fmt: skip
    swapped = "B" if text[position] != "B" else "C"
    with pytest.raises(InvalidInvite, match=r"mistyped \(a typo\?\)"):
        decode_invite(text[:position] + swapped + text[position + 1 :])


def test_look_alike_characters_read_as_letters() -> None:
    text = encode_invite(CODE)
    body = text[len(PREFIX) :]
    spoken = body.replace("O", "0").replace("I", "1").replace("B", "8")
    assert decode_invite(PREFIX + spoken) == CODE


@pytest.mark.parametrize(
    "text",
    [
        "rhz1-",
        "rhz1-!!!!",
        "rhz1-0189",
        "rhz1-" + "A" * 40,
        encode_invite(CODE) + "AAAAAAAA",
        code_text([INVITER.public_key, URL, SECRET]),
        code_text([INVITER.public_key, URL, SECRET, START, "extra"]),
        code_text({"key": INVITER.public_key, "url": URL, "secret": SECRET, "exp": START}),
        code_text([INVITER.public_key[:31], URL, SECRET, START]),
        code_text([INVITER.node_id, URL, SECRET, START]),
        code_text([INVITER.public_key, "ftp://hub.example", SECRET, START]),
        code_text([INVITER.public_key, b"http://x", SECRET, START]),
        code_text([INVITER.public_key, URL, SECRET[:-1], START]),
        code_text([INVITER.public_key, URL, SECRET.hex(), START]),
        code_text([INVITER.public_key, URL, SECRET, str(START)]),
        code_text([INVITER.public_key, URL, SECRET, float(START)]),
        code_text("rhz1"),
        code_text(None),
    ],
    ids=[
        "empty-body",
        "punctuation",
        "outside-base32",
        "all-zero",
        "trailing-bytes",
        "three-items",
        "five-items",
        "a-map",
        "short-key",
        "node-id-instead-of-key",
        "not-http",
        "url-as-bytes",
        "short-secret",
        "secret-as-text",
        "expiry-as-text",
        "expiry-as-float",
        "a-string",
        "nil",
    ],
)
def test_junk_is_refused(text: str) -> None:
    with pytest.raises(InvalidInvite):
        decode_invite(text)


@settings(max_examples=200)
@given(st.text(alphabet=string.printable, max_size=200))
def test_arbitrary_text_is_an_invite_or_invalid_invite(text: str) -> None:
    for candidate in (text, PREFIX + text):
        with contextlib.suppress(InvalidInvite):
            decode_invite(candidate)


# --- The proof and the acceptance -------------------------------------------------------


def expected_proof(secret: bytes, inviter_id: str, joiner_id: str) -> bytes:
    message = PROOF_CONTEXT + b"\x00" + f"{inviter_id}\n{joiner_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def test_the_proof_is_the_documented_hmac() -> None:
    proof = pairing_proof(SECRET, INVITER.node_id, JOINER.node_id)
    assert proof == expected_proof(SECRET, INVITER.node_id, JOINER.node_id)
    assert len(proof) == 32
    assert SECRET not in proof


def test_the_proof_is_bound_to_both_ids_and_the_secret() -> None:
    proof = pairing_proof(SECRET, INVITER.node_id, JOINER.node_id)
    assert pairing_proof(SECRET, INVITER.node_id, STRANGER.node_id) != proof
    assert pairing_proof(SECRET, STRANGER.node_id, JOINER.node_id) != proof
    assert pairing_proof(SECRET, JOINER.node_id, INVITER.node_id) != proof
    assert pairing_proof(bytes(SECRET_SIZE), INVITER.node_id, JOINER.node_id) != proof


def test_the_acceptance_is_an_ed25519_signature_over_both_ids_and_the_proof() -> None:
    proof = pairing_proof(SECRET, INVITER.node_id, JOINER.node_id)
    signature = sign_acceptance(INVITER, JOINER.node_id, proof)
    signed = ACCEPT_CONTEXT + b"\x00" + msgpack.packb([INVITER.node_id, JOINER.node_id, proof])
    nacl.signing.VerifyKey(INVITER.public_key).verify(signed, signature)
    assert signature == sign_acceptance(INVITER, JOINER.node_id, proof), "deterministic"
    verify_acceptance(CODE, JOINER.node_id, proof, signature)


def test_an_acceptance_from_another_key_is_refused() -> None:
    proof = pairing_proof(SECRET, INVITER.node_id, JOINER.node_id)
    forged = sign_acceptance(STRANGER, JOINER.node_id, proof)
    with pytest.raises(InvalidInvite, match="not the one the invite names; do not pair"):
        verify_acceptance(CODE, JOINER.node_id, proof, forged)


def test_an_acceptance_for_another_joiner_or_proof_is_refused() -> None:
    proof = pairing_proof(SECRET, INVITER.node_id, JOINER.node_id)
    for_stranger = sign_acceptance(INVITER, STRANGER.node_id, proof)
    other_proof = sign_acceptance(INVITER, JOINER.node_id, bytes(32))
    for signature in (for_stranger, other_proof, b"", bytes(64), for_stranger[:63]):
        with pytest.raises(InvalidInvite):
            verify_acceptance(CODE, JOINER.node_id, proof, signature)


# --- Invites in a real database ---------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return open_database(tmp_path / "rhizome.db")


def invite_row(db: sqlite_utils.Database, code: InviteCode) -> tuple[object, ...]:
    query = "SELECT expires_at, used_at, used_by FROM invites WHERE invite_id = ?"
    row: tuple[object, ...] = db.execute(query, [code.invite_id]).fetchone()
    return row


def redeem(
    db: sqlite_utils.Database, code: InviteCode, now: int, joiner: str | None = None
) -> None:
    joiner_id = joiner or JOINER.node_id
    proof = pairing_proof(code.secret, code.node_id, joiner_id)
    redeem_invite(db, code.invite_id, proof, code.node_id, joiner_id, now)


def test_create_invite_stores_only_what_redemption_needs(db: sqlite_utils.Database) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    assert code.expires == START + DEFAULT_TTL
    assert len(code.secret) == SECRET_SIZE
    assert decode_invite(encode_invite(code)) == code
    assert invite_row(db, code) == (START + DEFAULT_TTL, None, None)


def test_two_invites_have_different_secrets(db: sqlite_utils.Database) -> None:
    first = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    second = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    assert first.secret != second.secret


def test_redeeming_marks_the_invite_used_by_the_joiner(db: sqlite_utils.Database) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    redeem(db, code, START + 60)
    assert invite_row(db, code) == (START + DEFAULT_TTL, START + 60, JOINER.node_id)


def test_an_invite_is_used_once(db: sqlite_utils.Database) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    redeem(db, code, START + 60)
    with pytest.raises(InvalidInvite, match="already used; ask for a new one"):
        redeem(db, code, START + 61)
    with pytest.raises(InvalidInvite, match="already used"):
        redeem(db, code, START + 62, joiner=STRANGER.node_id)
    assert invite_row(db, code) == (START + DEFAULT_TTL, START + 60, JOINER.node_id)


@pytest.mark.parametrize("late", [0, 1, 3600])
def test_an_expired_invite_is_refused(db: sqlite_utils.Database, late: int) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, 600)
    with pytest.raises(InvalidInvite, match="expired; ask for a new one"):
        redeem(db, code, START + 600 + late)
    assert invite_row(db, code)[1] is None


def test_an_invite_is_good_until_its_last_second(db: sqlite_utils.Database) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, 600)
    redeem(db, code, START + 599)


def test_a_wrong_proof_is_refused_and_the_invite_stays_unused(
    db: sqlite_utils.Database,
) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    proofs = [
        bytes(32),
        pairing_proof(code.secret, code.node_id, STRANGER.node_id),
        pairing_proof(bytes(SECRET_SIZE), code.node_id, JOINER.node_id),
    ]
    for proof in proofs:
        with pytest.raises(InvalidInvite, match="proof does not match"):
            redeem_invite(db, code.invite_id, proof, code.node_id, JOINER.node_id, START)
    assert invite_row(db, code)[1] is None
    redeem(db, code, START)  # the real joiner can still use it


def test_a_proof_made_for_another_inviter_is_refused(db: sqlite_utils.Database) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    proof = pairing_proof(code.secret, STRANGER.node_id, JOINER.node_id)
    with pytest.raises(InvalidInvite, match="proof does not match"):
        redeem_invite(db, code.invite_id, proof, INVITER.node_id, JOINER.node_id, START)


def test_an_unknown_invite_is_refused(db: sqlite_utils.Database) -> None:
    with pytest.raises(InvalidInvite, match="unknown invite code"):
        redeem(db, CODE, START)


def test_a_failure_after_redeeming_rolls_the_invite_back(db: sqlite_utils.Database) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    with pytest.raises(RuntimeError), transaction(db):
        redeem(db, code, START + 60)
        raise RuntimeError("adding the peer failed")
    assert invite_row(db, code)[1] is None
    redeem(db, code, START + 61)


def test_a_refused_redemption_inside_a_transaction_changes_nothing(
    db: sqlite_utils.Database,
) -> None:
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    with pytest.raises(InvalidInvite), transaction(db):
        redeem(db, code, START, joiner=None)
        redeem(db, code, START + 1)
    assert invite_row(db, code)[1] is None


def test_a_typo_the_decoder_cannot_see_is_still_refused_by_the_inviter(
    db: sqlite_utils.Database,
) -> None:
    """Codes carry no checksum: most one-character typos still decode. They must never
    redeem a *different* invite or pair with a different node: the inviter refuses them."""
    code = create_invite(db, INVITER.node_id, URL, START, DEFAULT_TTL)
    text = encode_invite(code)
    for index in range(len(PREFIX), len(text)):
        for char in {BASE32[(BASE32.index(text[index]) + 1) % 32], "A"} - {text[index]}:
            damaged = text[:index] + char + text[index + 1 :]
            try:
                typo = decode_invite(damaged)
            except InvalidInvite:
                continue
            if (typo.node_id, typo.secret) == (code.node_id, code.secret):
                continue  # only the URL, the expiry shown or spare bits changed
            # The joiner proves with what it read; the inviter checks against its own id.
            proof = pairing_proof(typo.secret, typo.node_id, JOINER.node_id)
            with pytest.raises(InvalidInvite):
                redeem_invite(db, typo.invite_id, proof, INVITER.node_id, JOINER.node_id, START)
    assert invite_row(db, code)[1] is None
