"""API tokens' secrets: how a token looks, and the keyed hash that is all the node stores.

A token is ``rhz_`` + its id + ``_`` + 43 random URL-safe characters (256 bits). The node
keeps only HMAC-SHA256(key, token), with the key in ``api_token.key`` in the node home (0600,
made on first use), not in the database: a copy of the database alone cannot even test a
guess. Checking a request's token is one HMAC and one indexed lookup, so it is cheap enough
for every request and its cost does not depend on how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

TOKEN_KEY_FILE = "api_token.key"
PREFIX = "rhz_"
MAX_TOKEN_CHARS = 100
_keys: dict[Path, bytes] = {}  # read once per home: checked on every request
_SHAPE = re.compile(r"rhz_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def new_token() -> tuple[str, str]:
    """(id, token): the id names it in lists and revocations; the token is the secret."""
    token_id = secrets.token_hex(4)
    return token_id, f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def looks_like_token(text: str) -> bool:
    return len(text) <= MAX_TOKEN_CHARS and _SHAPE.fullmatch(text) is not None


def token_digest(home: Path, token: str) -> bytes:
    """The keyed hash stored for ``token`` (and looked up for a request that sends it)."""
    return hmac.new(token_key(home), token.encode("ascii"), hashlib.sha256).digest()


def token_key(home: Path) -> bytes:
    """The HMAC key, made once per home (0600; written whole, then linked into place, so a
    process that reads it never sees half a key)."""
    if home in _keys:
        return _keys[home]
    path = home / TOKEN_KEY_FILE
    if not path.exists():
        draft = home / f".{TOKEN_KEY_FILE}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(draft, path)
        except FileExistsError:  # another process made it first: theirs counts
            pass
        finally:
            draft.unlink()
    _keys[home] = path.read_bytes()
    return _keys[home]
