"""Key statements and key-history chains: known answers, forged links, forks, recovery."""

from __future__ import annotations

import hashlib

import pytest

from crypto.canonical import pack
from crypto.envelope import seal
from crypto.key_history import (
    RECOVERY_WINDOW,
    RETIRED,
    SUSPECT,
    UNKNOWN,
    VALID,
    verify_history,
)
from crypto.key_statements import (
    KEY_HISTORY_CONTEXT,
    InvalidKeyStatement,
    make_genesis,
    make_recovery,
    make_rotation,
    open_statement,
)
from crypto.signing import SigningIdentity

T0 = 1_780_000_000
FIRST = SigningIdentity.from_seed(bytes(range(32)))
SECOND = SigningIdentity.from_seed(bytes(range(32, 64)))
THIEF = SigningIdentity.from_seed(bytes(range(64, 96)))
RECOVERY = SigningIdentity.from_seed(bytes(range(96, 128)))
NODE = FIRST.public_key

# Known answer: the genesis statement of FIRST with RECOVERY at T0 has this id, for ever.
GENESIS_ID = "0c8f844ac158e9767fe96931d408c647e711240e1c10f161100e87f26c64712d"


def genesis():  # type: ignore[no-untyped-def]
    return make_genesis(FIRST, RECOVERY.public_key, T0)


def test_the_context_is_domain_separated() -> None:
    assert KEY_HISTORY_CONTEXT == b"rhizome/key-history/v1"


def test_known_answer_genesis() -> None:
    statement = genesis()
    assert statement.id_hex == GENESIS_ID
    assert statement.raw == genesis().raw  # Ed25519 is deterministic
    # The id is SHA-256 of context, NUL, payload: computed here without our helpers.
    payload = _payload_of(statement.raw)
    assert hashlib.sha256(b"rhizome/key-history/v1\x00" + payload).hexdigest() == GENESIS_ID
    assert open_statement(statement.raw) == statement


def test_a_rotation_hands_over_to_the_new_key() -> None:
    first = genesis()
    rotation = make_rotation(FIRST, first, SECOND.public_key, T0 + 100)
    history = verify_history(NODE, [rotation.raw, first.raw], now=T0 + 200)
    assert history.current_key == SECOND.public_key
    assert history.recovery_key == RECOVERY.public_key
    assert [s.seq for s in history.chain] == [0, 1]
    assert history.fork is None
    assert history.standing(FIRST.public_key, T0 + 50) == VALID
    assert history.standing(FIRST.public_key, T0 + 100) == VALID  # the same second
    assert history.standing(FIRST.public_key, T0 + 150) == RETIRED
    assert history.standing(SECOND.public_key, T0 + 150) == VALID
    assert history.standing(THIEF.public_key, T0 + 150) == UNKNOWN


def test_a_rotation_signed_by_another_key_is_refused() -> None:
    first = genesis()
    forged = make_rotation(FIRST, first, THIEF.public_key, T0 + 1)
    # Re-sign the same payload with the thief's key: the envelope verifies, the link does not.
    payload = open_statement(forged.raw)
    resealed = seal(THIEF, KEY_HISTORY_CONTEXT, _payload_of(forged.raw))
    assert payload.signer == FIRST.public_key
    with pytest.raises(InvalidKeyStatement, match="not signed by the current key"):
        verify_history(NODE, [first.raw, resealed.raw], now=T0 + 2)


def test_a_changed_byte_is_refused() -> None:
    first = genesis()
    rotation = make_rotation(FIRST, first, SECOND.public_key, T0 + 1)
    broken = bytearray(rotation.raw)
    broken[-70] ^= 1
    with pytest.raises(InvalidKeyStatement):
        verify_history(NODE, [first.raw, bytes(broken)], now=T0 + 2)


def test_a_rotation_may_not_change_the_recovery_key() -> None:
    first = genesis()
    payload = {
        "v": 1,
        "kind": "rotation",
        "node": NODE,
        "seq": 1,
        "prev": first.statement_id,
        "key": THIEF.public_key,
        "recovery": THIEF.public_key,
        "at": T0 + 1,
        "suspect": [],
    }
    raw = seal(FIRST, KEY_HISTORY_CONTEXT, pack(payload)).raw
    with pytest.raises(InvalidKeyStatement, match="recovery key"):
        verify_history(NODE, [first.raw, raw], now=T0 + 2)


def test_a_statement_after_an_unknown_one_is_refused() -> None:
    first = genesis()
    rotation = make_rotation(FIRST, first, SECOND.public_key, T0 + 1)
    later = make_rotation(SECOND, rotation, THIEF.public_key, T0 + 2)
    with pytest.raises(InvalidKeyStatement, match="never shown"):
        verify_history(NODE, [first.raw, later.raw], now=T0 + 3)


def test_a_history_of_another_node_is_refused() -> None:
    with pytest.raises(InvalidKeyStatement, match="another node"):
        verify_history(SECOND.public_key, [genesis().raw], now=T0)


def test_two_rotations_from_one_key_are_a_fork() -> None:
    first = genesis()
    one = make_rotation(FIRST, first, SECOND.public_key, T0 + 1)
    other = make_rotation(FIRST, first, THIEF.public_key, T0 + 2)
    history = verify_history(NODE, [first.raw, one.raw, other.raw], now=T0 + 3)
    assert history.fork is not None
    assert {s.statement_id for s in history.fork} == {one.statement_id, other.statement_id}
    assert history.current_key == FIRST.public_key  # nothing after the fork is trusted


def test_recovery_inside_the_window_overrides_the_thiefs_rotation() -> None:
    first = genesis()
    stolen = make_rotation(FIRST, first, THIEF.public_key, T0 + 10)
    onward = make_rotation(THIEF, stolen, THIEF.public_key, T0 + 11)
    recovery = make_recovery(
        RECOVERY, first, SECOND.public_key, T0 + 20, suspect=((FIRST.public_key, T0 + 5),)
    )
    seen = {stolen.statement_id: T0 + 10, onward.statement_id: T0 + 11}
    history = verify_history(
        NODE, [first.raw, stolen.raw, onward.raw, recovery.raw],
        now=T0 + RECOVERY_WINDOW, seen=seen,
    )  # fmt: skip
    assert history.fork is None
    assert history.current_key == SECOND.public_key
    assert {s.statement_id for s in history.overridden} == {
        stolen.statement_id,
        onward.statement_id,
    }
    assert history.overridden_keys == {THIEF.public_key}
    assert history.standing(FIRST.public_key, T0 + 1) == VALID
    assert history.standing(FIRST.public_key, T0 + 6) == SUSPECT
    assert history.standing(THIEF.public_key, T0 + 12) == UNKNOWN


def test_recovery_outside_the_window_is_a_fork() -> None:
    first = genesis()
    stolen = make_rotation(FIRST, first, THIEF.public_key, T0 + 10)
    recovery = make_recovery(RECOVERY, first, SECOND.public_key, T0 + 20)
    late = T0 + 10 + RECOVERY_WINDOW + 1
    history = verify_history(
        NODE, [first.raw, stolen.raw, recovery.raw], now=late, seen={stolen.statement_id: T0 + 10}
    )
    assert history.fork is not None
    assert history.current_key == FIRST.public_key


def test_a_backdated_rotation_cannot_lock_the_owner_out() -> None:
    """The window counts from when *we* saw the thief's rotation, not from its own date."""
    first = genesis()
    stolen = make_rotation(FIRST, first, THIEF.public_key, T0)  # claims to be as old as genesis
    recovery = make_recovery(RECOVERY, first, SECOND.public_key, T0 + 2 * RECOVERY_WINDOW)
    now = T0 + 2 * RECOVERY_WINDOW
    history = verify_history(
        NODE, [first.raw, stolen.raw, recovery.raw], now=now, seen={stolen.statement_id: now - 60}
    )
    assert history.current_key == SECOND.public_key


def test_only_the_recovery_key_signs_a_recovery() -> None:
    first = genesis()
    with pytest.raises(InvalidKeyStatement, match="recovery key"):
        make_recovery(THIEF, first, THIEF.public_key, T0 + 1)
    payload = {
        "v": 1,
        "kind": "recovery",
        "node": NODE,
        "seq": 1,
        "prev": first.statement_id,
        "key": THIEF.public_key,
        "recovery": THIEF.public_key,
        "at": T0 + 1,
        "suspect": [],
    }
    raw = seal(THIEF, KEY_HISTORY_CONTEXT, pack(payload)).raw
    with pytest.raises(InvalidKeyStatement, match="not signed by the recovery key"):
        verify_history(NODE, [first.raw, raw], now=T0 + 2)


def test_a_rotation_that_marks_suspects_is_refused() -> None:
    first = genesis()
    payload = {
        "v": 1,
        "kind": "rotation",
        "node": NODE,
        "seq": 1,
        "prev": first.statement_id,
        "key": SECOND.public_key,
        "recovery": RECOVERY.public_key,
        "at": T0 + 1,
        "suspect": [[FIRST.public_key, T0]],
    }
    raw = seal(FIRST, KEY_HISTORY_CONTEXT, pack(payload)).raw
    with pytest.raises(InvalidKeyStatement, match="only a recovery"):
        open_statement(raw)


def _payload_of(raw: bytes) -> bytes:
    from crypto.canonical import unpack

    value = unpack(raw)
    assert isinstance(value[2], bytes)
    return value[2]
