"""Key files: the seed at rest, plain (0600) or sealed under an argon2id passphrase.

Every damaged file is a KeyFileError with the path in its message, never a raw exception.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import msgpack
import nacl.pwhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import keyfile
from crypto.errors import KeyFileError, WrongPassphrase
from crypto.keyfile import (
    decode_key_file,
    encode_key_file,
    is_protected,
    read_key_file,
    write_key_file,
)
from tests.conftest import SEED_A, SEED_B

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheapest argon2id limits, so sealed files are quick to test; they are stored in
    the file and read back from it, which is what the tests exercise."""
    monkeypatch.setattr(keyfile, "OPSLIMIT", nacl.pwhash.argon2id.OPSLIMIT_MIN)
    monkeypatch.setattr(keyfile, "MEMLIMIT", nacl.pwhash.argon2id.MEMLIMIT_MIN)


def never_asked() -> str:
    raise AssertionError("the passphrase must not be asked for an unsealed key file")


def says(passphrase: str) -> Callable[[], str]:
    return lambda: passphrase


def test_plain_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SEED_A, None)
    assert read_key_file(path, never_asked) == SEED_A
    assert not is_protected(path.read_bytes())


def test_passphrase_sealed_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SEED_A, PASSPHRASE)
    data = path.read_bytes()
    assert is_protected(data)
    assert SEED_A not in data
    assert read_key_file(path, says(PASSPHRASE)) == SEED_A


def test_non_ascii_passphrase_round_trip() -> None:
    data = encode_key_file(SEED_B, "contraseña — 密码 🔑")
    assert decode_key_file(data, says("contraseña — 密码 🔑"), "k") == SEED_B


def test_sealing_twice_uses_a_fresh_salt() -> None:
    assert encode_key_file(SEED_A, PASSPHRASE) != encode_key_file(SEED_A, PASSPHRASE)


def test_default_limits_are_argon2id_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real limits, once
    fields = msgpack.unpackb(encode_key_file(SEED_A, PASSPHRASE))
    assert fields["kdf"] == "argon2id"
    assert fields["ops"] == nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    assert fields["mem"] == nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_file_mode_is_0600(tmp_path: Path, passphrase: str | None) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SEED_A, passphrase)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_never_overwrites_an_existing_key(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SEED_A, None)
    before = path.read_bytes()
    with pytest.raises((FileExistsError, KeyFileError)):
        write_key_file(path, SEED_B, None)
    assert path.read_bytes() == before
    assert read_key_file(path, never_asked) == SEED_A


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SEED_A, PASSPHRASE)
    with pytest.raises(WrongPassphrase) as error:
        read_key_file(path, says("correct horse battery stapler"))
    assert isinstance(error.value, KeyFileError)
    assert str(path) in str(error.value)
    assert "wrong passphrase" in str(error.value)


def test_passphrase_is_not_asked_for_an_unsealed_file() -> None:
    calls: list[int] = []

    def counting() -> str:
        calls.append(1)
        return PASSPHRASE

    assert decode_key_file(encode_key_file(SEED_A, None), counting, "k") == SEED_A
    assert calls == []


def test_passphrase_is_asked_once_for_a_sealed_file() -> None:
    calls: list[int] = []

    def counting() -> str:
        calls.append(1)
        return PASSPHRASE

    assert decode_key_file(encode_key_file(SEED_A, PASSPHRASE), counting, "k") == SEED_A
    assert calls == [1]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(KeyFileError, match="missing") as error:
        read_key_file(path, never_asked)
    assert str(path) in str(error.value)


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        read_key_file(tmp_path, never_asked)


def _packed(**fields: object) -> bytes:
    return msgpack.packb(fields, use_bin_type=True)


PLAIN = encode_key_file(SEED_A, None)

DAMAGED = {
    "empty": b"",
    "junk": b"this is not a key file\n",
    "reserved-byte": b"\xc1",
    "json": b'{"format": "rhizome-key", "v": 1, "kdf": "none"}',
    "bare-seed": SEED_A,
    "msgpack-list": msgpack.packb([1, 2, 3]),
    "msgpack-int": msgpack.packb(7),
    "int-keys": msgpack.packb({1: 2}),
    "other-format": _packed(format="ssh-key", v=1, kdf="none", seed=SEED_A),
    "no-format": _packed(v=1, kdf="none", seed=SEED_A),
    "version-2": _packed(format="rhizome-key", v=2, kdf="none", seed=SEED_A),
    "unknown-kdf": _packed(format="rhizome-key", v=1, kdf="scrypt", seed=SEED_A),
    "no-seed": _packed(format="rhizome-key", v=1, kdf="none"),
    "short-seed": _packed(format="rhizome-key", v=1, kdf="none", seed=SEED_A[:31]),
    "seed-as-text": _packed(format="rhizome-key", v=1, kdf="none", seed="00" * 32),
    "sealed-without-salt": _packed(format="rhizome-key", v=1, kdf="argon2id", sealed=b"x"),
    "trailing-bytes": PLAIN + b"\x00",
    "oversized": b"\x00" * 4097,
    "oversized-valid-prefix": PLAIN + b" " * 5000,
}


@pytest.mark.parametrize("data", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_files_are_key_file_errors_naming_the_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "node.key"
    path.write_bytes(data)
    with pytest.raises(KeyFileError) as error:
        read_key_file(path, says(PASSPHRASE))
    assert str(path) in str(error.value)


@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_every_truncation_is_a_key_file_error(passphrase: str | None) -> None:
    data = encode_key_file(SEED_A, passphrase)
    for cut in range(len(data)):
        with pytest.raises(KeyFileError):
            decode_key_file(data[:cut], says(PASSPHRASE), "k")


def test_a_changed_byte_in_the_sealed_seed_is_refused() -> None:
    fields = msgpack.unpackb(encode_key_file(SEED_A, PASSPHRASE))
    sealed = bytearray(fields["sealed"])
    sealed[-1] ^= 1
    fields["sealed"] = bytes(sealed)
    with pytest.raises(KeyFileError):
        decode_key_file(msgpack.packb(fields), says(PASSPHRASE), "k")


def test_a_damaged_salt_is_reported_as_damage_not_as_a_wrong_passphrase() -> None:
    # The right passphrase is typed; telling the operator it is wrong sends them guessing.
    fields = msgpack.unpackb(encode_key_file(SEED_A, PASSPHRASE))
    fields["salt"] = fields["salt"][:5]
    with pytest.raises(KeyFileError) as error:
        decode_key_file(msgpack.packb(fields), says(PASSPHRASE), "k")
    assert not isinstance(error.value, WrongPassphrase)
    assert "damaged" in str(error.value)


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_key_file_error(data: bytes) -> None:
    try:
        seed = decode_key_file(data, says(PASSPHRASE), "k")
    except KeyFileError:
        return
    assert len(seed) == 32
