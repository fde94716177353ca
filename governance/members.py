"""Members: people who act on this node, each with a key the node holds and certifies.

A member certificate is a signed envelope by the *node* key over
``[1, node id, member name, member public key, roles, issued]`` (context
``rhizome/member/v1``), so a peer that trusts our node can check who approved or revoked
something. It is issued again whenever the member's roles change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.canonical import pack
from crypto.envelope import seal
from crypto.errors import N_, RhizomeError
from crypto.signing import SigningIdentity
from governance.roles import ROLES

MEMBER_CONTEXT = b"rhizome/member/v1"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


class MemberError(RhizomeError):
    """A member name is unknown, taken or malformed, or a role does not exist.

    ``rhizome member list`` shows the members; names are lower case letters, digits, . _ -.
    """


@dataclass(frozen=True)
class Member:
    name: str
    public_key: bytes
    roles: tuple[str, ...]
    certificate: bytes
    added_at: int
    removed_at: int | None
    session_epoch: int = 0  # bumped with every new password: older sessions no longer count

    @property
    def active(self) -> bool:
        return self.removed_at is None


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise MemberError(
            f"{name!r} is not a member name: use 1 to 32 lower case letters, digits, . _ or -"
        )
    return name


def check_roles(roles: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise MemberError.worded(
            N_("unknown role {role} (roles: {roles})"),
            role=repr(unknown[0]),
            roles=", ".join(ROLES),
        )
    return tuple(role for role in ROLES if role in roles)


def certificate(
    node: SigningIdentity, name: str, public_key: bytes, roles: tuple[str, ...], now: int
) -> bytes:
    """The node's signed statement that ``public_key`` is member ``name`` with ``roles``."""
    payload = pack([1, node.node_id, name, public_key, list(roles), now])
    return seal(node, MEMBER_CONTEXT, payload).raw


_COLUMNS = "name, public_key, roles, certificate, added_at, removed_at"
_READ = f"{_COLUMNS}, session_epoch"


def _member(row: Any) -> Member:
    name, key, roles, cert, added, removed, epoch = row
    return Member(name, key, tuple(json.loads(roles)), cert, added, removed, epoch)


def get_member(db: sqlite_utils.Database, name: str) -> Member | None:
    row = db.execute(f"SELECT {_READ} FROM members WHERE name = ?", [name]).fetchone()
    return None if row is None else _member(row)


def active_member(db: sqlite_utils.Database, name: str) -> Member:
    """The member acting now; raise if unknown or removed."""
    member = get_member(db, name)
    if member is None or not member.active:
        raise MemberError.worded(
            N_("no member {name} on this node (see `rhizome member list`)"), name=repr(name)
        )
    return member


def password_hash_of(db: sqlite_utils.Database, name: str) -> str | None:
    """The password hash of an active member who has one; None for anyone else."""
    row = db.execute(
        "SELECT password_hash FROM members WHERE name = ? AND removed_at IS NULL", [name]
    ).fetchone()
    return None if row is None or not row[0] else str(row[0])


def set_password_hash(db: sqlite_utils.Database, name: str, password_hash: str) -> None:
    """Store a member's new password hash (argon2id, made by the caller); every session
    signed in with the old one ends (the session epoch moves on)."""
    db.execute(
        "UPDATE members SET password_hash = ?, session_epoch = session_epoch + 1 WHERE name = ?",
        [password_hash, name],
    )


def list_members(db: sqlite_utils.Database, include_removed: bool = False) -> list[Member]:
    where = "" if include_removed else "WHERE removed_at IS NULL"
    rows = db.execute(f"SELECT {_READ} FROM members {where} ORDER BY name").fetchall()
    return [_member(row) for row in rows]


def require_new_member_name(db: sqlite_utils.Database, name: str) -> None:
    """A name no member has ever had here: a removed member's name is not reused, so their
    past approvals and revocations keep naming them alone."""
    check_name(name)
    existing = get_member(db, name)
    if existing is not None and existing.active:
        raise MemberError.worded(N_("there is already a member named {name}"), name=repr(name))
    if existing is not None:
        raise MemberError.worded(
            N_("{name} belonged to a removed member; choose another name"), name=repr(name)
        )


def add_member(
    db: sqlite_utils.Database,
    node: SigningIdentity,
    name: str,
    public_key: bytes,
    roles: tuple[str, ...],
    now: int,
) -> Member:
    """Record a new member (their key file is the caller's to write first)."""
    require_new_member_name(db, name)
    with transaction(db):
        db.execute(
            f"INSERT INTO members ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL)",
            [
                name,
                public_key,
                json.dumps(list(roles)),
                certificate(node, name, public_key, roles, now),
                now,
            ],
        )
        append_event(db, node, "member.added", name, {"roles": list(roles)}, now)
    return active_member(db, name)


def set_roles(
    db: sqlite_utils.Database, node: SigningIdentity, name: str, roles: tuple[str, ...], now: int
) -> Member:
    """Change a member's roles and issue a new certificate."""
    member = active_member(db, name)
    with transaction(db):
        db.execute(
            "UPDATE members SET roles = ?, certificate = ? WHERE name = ?",
            [json.dumps(list(roles)), certificate(node, name, member.public_key, roles, now), name],
        )
        append_event(db, node, "member.roles", name, {"roles": list(roles)}, now)
    return active_member(db, name)


def remove_member(db: sqlite_utils.Database, node: SigningIdentity, name: str, now: int) -> None:
    """Mark a member removed: they can no longer act, and their approvals stop counting."""
    active_member(db, name)
    remaining_admins = [m for m in list_members(db) if "admin" in m.roles and m.name != name]
    if not remaining_admins:
        raise MemberError.worded(N_("refusing to remove the last admin: add another admin first"))
    with transaction(db):
        db.execute("UPDATE members SET removed_at = ? WHERE name = ?", [now, name])
        append_event(db, node, "member.removed", name, {}, now)


def mark_compromised(
    db: sqlite_utils.Database, node: SigningIdentity, name: str, since: int, now: int
) -> None:
    """Member ``name``'s key may have been in someone else's hands since ``since``: their
    certificate is revoked (they can no longer act, as if removed) and approvals stored from
    ``since`` on stop counting; earlier ones keep counting. Decisions read approvals when a
    record is about to leave, so every later decision (and ``policy explain``) says so."""
    member = get_member(db, name)
    if member is None:
        raise MemberError.worded(
            N_("no member {name}; `rhizome member list` shows them"), name=repr(name)
        )
    others = [m for m in list_members(db) if "admin" in m.roles and m.name != name]
    if member.active and "admin" in member.roles and not others:
        raise MemberError.worded(N_("refusing to lock out the last admin: add another admin first"))
    with transaction(db):
        db.execute(
            "UPDATE members SET compromised_since = min(coalesce(compromised_since, ?), ?), "
            "removed_at = coalesce(removed_at, ?) WHERE name = ?",
            [since, since, now, name],
        )
        append_event(db, node, "member.compromised", name, {"since": since}, now)
