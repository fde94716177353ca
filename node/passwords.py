"""Members' passwords for signing in to the web UI: the length rule and the argon2id hash.

Setting a password is an action (:mod:`node.actions.members`); checking one at sign-in is
the web's (:mod:`node.web.auth`, in a worker thread, throttled).
"""

from __future__ import annotations

import nacl.pwhash

from crypto.errors import RhizomeError

MIN_PASSWORD = 10


class WeakPassword(RhizomeError):
    """Passwords must be at least ten characters; a passphrase of a few words is best."""


def hash_password(password: str) -> str:
    """The argon2id hash to store (slow on purpose: ~64 MiB and ~70 ms)."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD} characters")
    return nacl.pwhash.argon2id.str(password.encode("utf-8")).decode("ascii")
