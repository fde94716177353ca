"""Key files: a node's (or member's) Ed25519 seed at rest.

Without a passphrase the file holds the seed as is, readable by the owner only (0600).
With one, the seed is sealed with XSalsa20-Poly1305 (SecretBox) under a key stretched from
the passphrase with argon2id, so a seized disk does not give the key away. In a sealed home
(:mod:`crypto.home_key`) the seed is sealed with the home key instead (``kdf: "home-key"``), so
one passphrase stretch opens every key and a passphrase change touches one file. The file is
msgpack: ``{"format": "rhizome-key", "v": 1, "kdf": "none" | "argon2id" | "home-key", ...}``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from crypto.canonical import pack
from crypto.errors import N_, KeyFileError, WrongPassphrase
from crypto.home_key import SecretDamaged, open_secret, seal_secret
from crypto.signing import SEED_SIZE

FORMAT = "rhizome-key"
VERSION = 1
# The interactive limits (64 MiB, a fraction of a second) keep every CLI command quick
# while still making each passphrase guess cost real memory.
OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
_MAX_KEY_FILE = 4096

PassphraseSource = Callable[[], str]
HomeKeySource = Callable[[], bytes]
KDFS = ("none", "argon2id", "home-key")


def _stretch(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    key: bytes = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit, memlimit
    )
    return key


def encode_key_file(seed: bytes, passphrase: str | None) -> bytes:
    """The bytes of a key file holding ``seed``, sealed if a passphrase is given."""
    if not passphrase:
        return pack({"format": FORMAT, "v": VERSION, "kdf": "none", "seed": seed})
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_stretch(passphrase, salt, OPSLIMIT, MEMLIMIT))
    return pack(
        {
            "format": FORMAT,
            "v": VERSION,
            "kdf": "argon2id",
            "salt": salt,
            "ops": OPSLIMIT,
            "mem": MEMLIMIT,
            "sealed": bytes(box.encrypt(seed)),
        }
    )


def encode_home_sealed_key_file(seed: bytes, home_key: bytes) -> bytes:
    """The bytes of a key file holding ``seed`` sealed with a sealed home's home key."""
    return pack(
        {"format": FORMAT, "v": VERSION, "kdf": "home-key", "sealed": seal_secret(home_key, seed)}
    )


def write_key_file(
    path: Path, seed: bytes, passphrase: str | None, *, home_key: bytes | None = None
) -> None:
    """Create ``path`` (0600, never overwriting) holding ``seed``: sealed with ``home_key``
    when given (a sealed home), else with ``passphrase`` if any."""
    if home_key is not None:
        data = encode_home_sealed_key_file(seed, home_key)
    else:
        data = encode_key_file(seed, passphrase)
    write_private_file(path, data)


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` (0600, never overwriting) holding ``data``, flushed to the disk."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise KeyFileError.worded(
            N_("{path}: a key file is already there; refusing to overwrite it"), path=path
        ) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)  # ours (O_EXCL): a half-written key (a full disk) is no key
        raise


def is_protected(data: bytes) -> bool:
    """Whether a key file needs a passphrase (directly, or through the home key)."""
    return bool(_parse(data, "<key>")["kdf"] != "none")


def kdf_of(data: bytes, where: str) -> str:
    """How a key file is sealed: ``none``, ``argon2id`` (its own passphrase) or
    ``home-key`` (a sealed home's home key)."""
    return str(_parse(data, where)["kdf"])


def decode_key_file(
    data: bytes,
    passphrase: PassphraseSource,
    where: str,
    home_key: HomeKeySource | None = None,
) -> bytes:
    """The seed inside a key file; ``passphrase`` (or ``home_key`` for a file sealed with
    the home key) is called only if the file is sealed."""
    fields = _parse(data, where)
    if fields["kdf"] == "none":
        return _seed(fields.get("seed"), where)
    if fields["kdf"] == "home-key":
        return _open_with_home_key(fields, home_key, where)
    salt, ops, mem, sealed = _sealing_parameters(fields, where)
    key = _stretch(passphrase(), salt, ops, mem)
    try:
        seed = nacl.secret.SecretBox(key).decrypt(sealed)
    except nacl.exceptions.CryptoError as error:
        raise WrongPassphrase.worded(
            N_("{where}: wrong passphrase for this key file"), where=where
        ) from error
    return _seed(seed, where)


def _open_with_home_key(
    fields: dict[str, Any], home_key: HomeKeySource | None, where: str
) -> bytes:
    sealed = fields.get("sealed")
    if not isinstance(sealed, bytes):
        raise KeyFileError.worded(
            N_("{where}: key file is damaged (no sealed key inside)"), where=where
        )
    if home_key is None:
        raise KeyFileError.worded(
            N_("{where}: sealed with the home key of a sealed home; open the home"), where=where
        )
    try:
        return _seed(open_secret(home_key(), sealed), where)
    except SecretDamaged as error:
        raise KeyFileError.worded(
            N_("{where}: does not open with this home's home.key"), where=where
        ) from error


def _sealing_parameters(fields: dict[str, Any], where: str) -> tuple[bytes, int, int, bytes]:
    """Check a sealed file's parameters before using them: a damaged file must read as
    damaged (not as a wrong passphrase), and must not make argon2 eat all our memory."""
    salt, ops, mem, sealed = (fields.get(name) for name in ("salt", "ops", "mem", "sealed"))
    argon = nacl.pwhash.argon2id
    if not (
        isinstance(salt, bytes)
        and len(salt) == argon.SALTBYTES
        and isinstance(ops, int)
        and argon.OPSLIMIT_MIN <= ops <= argon.OPSLIMIT_SENSITIVE
        and isinstance(mem, int)
        and argon.MEMLIMIT_MIN <= mem <= argon.MEMLIMIT_MODERATE
        and isinstance(sealed, bytes)
    ):
        raise KeyFileError.worded(
            N_("{where}: key file is damaged (bad sealing parameters)"), where=where
        )
    return salt, ops, mem, sealed


def read_key_file(
    path: Path, passphrase: PassphraseSource, home_key: HomeKeySource | None = None
) -> bytes:
    """Read and open the key file at ``path``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise KeyFileError.worded(N_("{path}: key file is missing"), path=path) from error
    except OSError as error:
        raise KeyFileError.worded(
            N_("{path}: cannot read key file ({reason})"), path=path, reason=error.strerror
        ) from error
    return decode_key_file(data, passphrase, str(path), home_key)


def _parse(data: bytes, where: str) -> dict[str, Any]:
    if len(data) > _MAX_KEY_FILE:
        raise KeyFileError.worded(N_("{where}: not a Rhizome key file (too large)"), where=where)
    try:
        fields = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException) as error:
        raise KeyFileError.worded(
            N_("{where}: not a Rhizome key file (damaged)"), where=where
        ) from error
    if not isinstance(fields, dict) or fields.get("format") != FORMAT:
        raise KeyFileError.worded(N_("{where}: not a Rhizome key file"), where=where)
    if fields.get("v") != VERSION or fields.get("kdf") not in KDFS:
        raise KeyFileError.worded(
            N_("{where}: key file version or kind not supported"), where=where
        )
    return fields


def _seed(value: object, where: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != SEED_SIZE:
        raise KeyFileError.worded(
            N_("{where}: key file is damaged (no valid key inside)"), where=where
        )
    return value
