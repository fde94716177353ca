"""Members' API tokens: read-only credentials for scripts, kept as keyed hashes only.

The token itself is shown once, when it is made; the table holds its keyed hash (made by the
caller with a key that is not in the database), the member it acts for, a label and when it
was made. A request's token is found by its hash in one indexed lookup: no password hashing
per request, and the hash of a guess says nothing about the tokens stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.errors import N_
from crypto.signing import SigningIdentity
from governance.members import MemberError, active_member

MAX_LABEL_CHARS = 100
MAX_TOKENS_PER_MEMBER = 20


@dataclass(frozen=True)
class MemberToken:
    id: str
    member: str
    label: str
    created_at: int


class UnknownToken(MemberError):
    """No API token has this id: ``rhizome member token list`` shows them."""

    http_status = 404
    code = "not_found"


def add_token(
    db: sqlite_utils.Database,
    node: SigningIdentity,
    token: MemberToken,
    digest: bytes,
) -> MemberToken:
    """Store a new token's keyed hash for an active member (logged, without the hash)."""
    active_member(db, token.member)
    if len(token.label) > MAX_LABEL_CHARS:
        raise MemberError.worded(
            N_("a token label has at most {count} characters"), count=MAX_LABEL_CHARS
        )
    if len(tokens_of(db, token.member)) >= MAX_TOKENS_PER_MEMBER:
        raise MemberError.worded(
            N_("{member} has {count} tokens already: revoke one first"),
            member=token.member,
            count=MAX_TOKENS_PER_MEMBER,
        )
    with transaction(db):
        db.execute(
            "INSERT INTO member_tokens (id, member, label, digest, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [token.id, token.member, token.label, digest, token.created_at],
        )
        append_event(db, node, "member.token", token.member, {"token": token.id}, token.created_at)
    return token


def tokens_of(db: sqlite_utils.Database, member: str | None = None) -> list[MemberToken]:
    """Every token (of ``member``, or of everyone), oldest first; never their hashes."""
    where, params = ("WHERE member = ?", [member]) if member else ("", [])
    rows = db.execute(
        f"SELECT id, member, label, created_at FROM member_tokens {where} ORDER BY created_at, id",
        params,
    ).fetchall()
    return [MemberToken(*row) for row in rows]


def remove_token(
    db: sqlite_utils.Database, node: SigningIdentity, token_id: str, now: int
) -> MemberToken:
    """Revoke a token: the next request that sends it is refused."""
    row = db.execute(
        "SELECT id, member, label, created_at FROM member_tokens WHERE id = ?", [token_id]
    ).fetchone()
    if row is None:
        raise UnknownToken.worded(
            N_("no API token {id} (see `rhizome member token list`)"), id=repr(token_id)
        )
    token = MemberToken(*row)
    with transaction(db):
        db.execute("DELETE FROM member_tokens WHERE id = ?", [token_id])
        append_event(db, node, "member.token_revoked", token.member, {"token": token.id}, now)
    return token


def token_member(db: sqlite_utils.Database, digest: bytes) -> str | None:
    """The member whose token has this keyed hash, if any."""
    row = db.execute("SELECT member FROM member_tokens WHERE digest = ?", [digest]).fetchone()
    return None if row is None else str(row[0])
