"""A sealed node home: what is encrypted, with which key, and where the key material lives.

A home is **sealed** when it holds ``home.key``: a random 256-bit home key
(:mod:`crypto.home_key`), wrapped by a key stretched from the passphrase with argon2id.
Everything readable hangs from it:

- ``rhizome.db`` (and its ``-wal`` / ``-journal``) is a SQLCipher database whose raw key is
  ``crypto.home_key.database_key(home_key)``;
- ``node.key``, ``members/*.key``, ``session.key`` and ``api_token.key`` are key files
  sealed with the home key (``kdf: "home-key"``);
- changing the passphrase rewrites ``home.key`` only (one atomic rename).

An **unsealed** home (no ``home.key``) keeps all of these in plain text; ``init``, ``serve``,
``/healthz`` and the web pages say so. A home made before sealing existed may have a
passphrase on ``node.key`` alone: it is unsealed too (its database is plain), and
``rhizome seal`` converts it.

Seams for other parts of the node:

- :func:`key_material_paths` lists every file of key material, the one that unlocks the
  rest first: a panic wipe destroys them in this order.
- To open the database of a sealed home given its home key (a backup, a restore):
  ``node.database.open_database(path, key=database_key(home_key))``; for a copy, open it and
  call :func:`archive.cipher.export_database` (SQLCipher's ``sqlcipher_export``), or use the
  online backup API between two connections opened with the same key.
- :class:`HomeKeys` is how a :class:`~node.node.Node` (and ``serve`` while locked) opens a
  home: ``HomeKeys(paths, passphrase_source).database_key()``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from crypto.errors import KeyFileError
from crypto.home_key import HOME_KEY_SIZE, database_key
from crypto.keyfile import (
    PassphraseSource,
    encode_home_sealed_key_file,
    kdf_of,
    read_key_file,
    write_private_file,
)
from node.home import HOME_KEY_FILE, HomePaths
from node.seal import (
    API_TOKEN_KEY_FILE,
    SESSION_KEY_FILE,
    finish_interrupted_seal,
    fsync_folder,
    is_sealed,
)

__all__ = [
    "HOME_KEY_FILE",
    "HomeKeys",
    "fsync_folder",
    "is_sealed",
    "key_material_paths",
    "session_secret",
    "token_secret",
]

# Reads a key file with a passphrase source: how a Node asks again after a typo.
Opening = Callable[[Callable[[PassphraseSource], bytes]], bytes]


def home_key_path(root: Path) -> Path:
    return root / HOME_KEY_FILE


def key_material_paths(root: Path) -> list[Path]:
    """Every file of key material in the home at ``root`` that exists, the most valuable
    first: ``home.key`` (without it nothing of a sealed home can be decrypted, even with
    the passphrase), then ``node.key``, ``session.key``, ``api_token.key`` and
    ``members/*.key``. Symbolic links are left out (a wipe must not follow them)."""
    paths = HomePaths(root)
    members = sorted(paths.members.glob("*.key")) if paths.members.is_dir() else []
    found = [
        home_key_path(root),
        paths.key,
        root / SESSION_KEY_FILE,
        root / API_TOKEN_KEY_FILE,
        *members,
    ]
    return [path for path in found if path.is_file() and not path.is_symlink()]


class HomeKeys:
    """The keys of one opened home. For a sealed home the passphrase is asked (through
    ``opening``) the first time a key is needed, once per process; an unsealed home needs
    none and every key here is ``None``."""

    def __init__(self, paths: HomePaths, opening: Opening) -> None:
        self.paths = paths
        self._opening = opening
        finish_interrupted_seal(paths.root)  # a crash mid-seal: the new home, finished
        self.sealed = is_sealed(paths.root)
        self._home_key: bytes | None = None

    def home_key(self) -> bytes | None:
        """The home key (``None`` for an unsealed home); a wrong passphrase raises
        :class:`~crypto.errors.WrongPassphrase` and changes nothing."""
        if not self.sealed:
            return None
        if self._home_key is None:
            path = home_key_path(self.paths.root)
            self._home_key = self._opening(lambda source: read_key_file(path, source))
        return self._home_key

    def require_home_key(self) -> bytes:
        key = self.home_key()
        if key is None:
            raise KeyFileError(f"{self.paths.root}: this home is not sealed")
        return key

    def database_key(self) -> bytes | None:
        """The SQLCipher key of ``rhizome.db``, or ``None`` for a plain database."""
        key = self.home_key()
        return None if key is None else database_key(key)

    def read_key(self, path: Path) -> bytes:
        """The seed in a key file of this home (sealed with the home key, with its own
        passphrase as homes made before sealing have it, or plain)."""
        return self._opening(lambda source: read_key_file(path, source, self.require_home_key))


def session_secret(root: Path, home_key: bytes | None) -> bytes:
    """The web session cookies' key, made once per home (0600): sealed with the home key in
    a sealed home, plain otherwise. A plain one left in a sealed home (made before sealing)
    is replaced: signed-in browsers sign in again."""
    path = root / SESSION_KEY_FILE
    if home_key is None:
        if not path.exists():
            write_private_file(path, secrets.token_bytes(32))
        return path.read_bytes()
    if path.exists() and not _is_home_sealed_key_file(path):
        path.unlink()
    if not path.exists():
        write_private_file(path, encode_home_sealed_key_file(secrets.token_bytes(32), home_key))
    return read_key_file(path, _no_passphrase, lambda: home_key)


def token_secret(root: Path, home_key: bytes | None) -> bytes:
    """The API tokens' HMAC key, made once per home (0600): sealed with the home key in a
    sealed home, plain otherwise. Unlike the session key, a plain one left from before
    sealing is sealed with the same bytes (written whole, then renamed over the plain one):
    the tokens already given out keep working."""
    path = root / API_TOKEN_KEY_FILE
    if not path.exists():
        secret = secrets.token_bytes(32)
        data = secret if home_key is None else encode_home_sealed_key_file(secret, home_key)
        draft = root / f".{API_TOKEN_KEY_FILE}.{secrets.token_hex(4)}"
        write_private_file(draft, data)
        try:
            os.link(draft, path)  # another process made it first: theirs counts
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if home_key is None:
        return path.read_bytes()
    if not _is_home_sealed_key_file(path):
        plain = path.read_bytes()
        draft = root / f".{API_TOKEN_KEY_FILE}.{secrets.token_hex(4)}"
        write_private_file(draft, encode_home_sealed_key_file(plain, home_key))
        os.replace(draft, path)
        fsync_folder(root)
    return read_key_file(path, _no_passphrase, lambda: home_key)


def _is_home_sealed_key_file(path: Path) -> bool:
    data = path.read_bytes()
    if len(data) == HOME_KEY_SIZE:
        return False  # a plain session key: 32 random bytes
    try:
        return kdf_of(data, str(path)) == "home-key"
    except KeyFileError:
        return False


def _no_passphrase() -> str:
    raise KeyFileError("this secret is sealed with the home key, not a passphrase")
