"""The home key: one random 256-bit key that every secret of a sealed node home hangs from.

A sealed home keeps its home key in ``home.key``, wrapped by a key stretched from the
passphrase with argon2id (the key-file format of :mod:`crypto.keyfile`). Changing the
passphrase re-wraps that one small file; nothing else is re-encrypted. From the home key,
with domain separation:

- :func:`database_key` is the SQLCipher key of ``rhizome.db`` (tables, search index, WAL);
- :func:`seal_secret` / :func:`open_secret` seal the other secrets of the home (the node
  key, the members' keys, the web session key) with XSalsa20-Poly1305 (SecretBox).

Destroying ``home.key`` makes every one of them unreadable at once: a panic wipe removes it
first.
"""

from __future__ import annotations

import hashlib

import nacl.exceptions
import nacl.secret
import nacl.utils

from crypto.errors import CryptoError

HOME_KEY_SIZE = 32
DATABASE_CONTEXT = b"rhizome/database-key/v1"
SECRETS_CONTEXT = b"rhizome/home-secret/v1"


class SecretDamaged(CryptoError):
    """A secret sealed with the home key does not open: it belongs to another home, or the
    file is damaged. Restore the home (with its ``home.key``) from a backup."""


def new_home_key() -> bytes:
    """A fresh random home key."""
    return bytes(nacl.utils.random(HOME_KEY_SIZE))


def _subkey(home_key: bytes, context: bytes) -> bytes:
    if len(home_key) != HOME_KEY_SIZE:
        raise ValueError("a home key is 32 bytes")
    return hashlib.blake2b(context, key=home_key, digest_size=32).digest()


def database_key(home_key: bytes) -> bytes:
    """The raw 256-bit SQLCipher key of the home's database."""
    return _subkey(home_key, DATABASE_CONTEXT)


def seal_secret(home_key: bytes, secret: bytes) -> bytes:
    """``secret`` encrypted and authenticated under the home key."""
    box = nacl.secret.SecretBox(_subkey(home_key, SECRETS_CONTEXT))
    return bytes(box.encrypt(secret))


def open_secret(home_key: bytes, sealed: bytes) -> bytes:
    """The secret :func:`seal_secret` sealed; :class:`SecretDamaged` if it does not open."""
    box = nacl.secret.SecretBox(_subkey(home_key, SECRETS_CONTEXT))
    try:
        return bytes(box.decrypt(sealed))
    except nacl.exceptions.CryptoError as error:
        raise SecretDamaged("a secret of this home does not open with its home key") from error
