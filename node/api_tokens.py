"""API tokens' secrets: how a token looks, and the keyed hash that is all the node stores.

A token is ``rhz_`` + its id + ``_`` + 43 random URL-safe characters (256 bits). The node
keeps only HMAC-SHA256(key, token), with the key in ``api_token.key`` in the node home (0600,
made on first use, sealed with the home key in a sealed home: node.sealed_home.token_secret),
not in the database: a copy of the database alone cannot even test a guess. Checking a
request's token is one HMAC and one indexed lookup, so it is cheap enough
for every request and its cost does not depend on how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

from node.seal import API_TOKEN_KEY_FILE
from node.sealed_home import token_secret

TOKEN_KEY_FILE = API_TOKEN_KEY_FILE
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


def token_digest(home: Path, token: str, home_key: bytes | None) -> bytes:
    """The keyed hash stored for ``token`` (and looked up for a request that sends it);
    ``home_key``: the home key of a sealed home, ``None`` for an unsealed one."""
    return hmac.new(token_key(home, home_key), token.encode("ascii"), hashlib.sha256).digest()


def token_key(home: Path, home_key: bytes | None) -> bytes:
    """The HMAC key, read once per home (it is checked on every request)."""
    if home not in _keys:
        _keys[home] = token_secret(home, home_key)
    return _keys[home]
