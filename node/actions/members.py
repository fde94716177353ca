"""Member actions: add and remove members, give and take roles, set a password, make and
revoke API tokens.

Admins manage members (``member.manage``); a member may set their own password. The rules
that keep a node governable (never no admin, never a member without a role) are here, so
every front end refuses the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.db import transaction
from archive.event_log import append_event
from governance.member_tokens import MemberToken, add_token, remove_token, tokens_of
from governance.members import (
    Member,
    MemberError,
    check_roles,
    list_members,
    remove_member,
    set_password_hash,
    set_roles,
)
from governance.roles import require
from node.actions.member_keys import tell_peers_of_member
from node.api_tokens import new_token, token_digest
from node.home import create_member
from node.node import Node
from node.passwords import hash_password


@dataclass(frozen=True)
class AddMember:
    by: Member
    name: str
    roles: tuple[str, ...]


def add_member(node: Node, request: AddMember) -> Member:
    """A new member with a fresh key (sealed like the node key), certified by this node."""
    require(request.by.name, request.by.roles, "member.manage")
    roles = check_roles(list(request.roles))
    passphrase = node.passphrase_if_sealed()
    return create_member(node.paths, node.db, node.identity, request.name, roles, passphrase,
                         node.now(), home_key=node.keys.home_key())  # fmt: skip


@dataclass(frozen=True)
class RemoveMember:
    by: Member
    name: str


def remove_from_node(node: Node, request: RemoveMember) -> None:
    """They can no longer act, their approvals stop counting, their key file is deleted."""
    require(request.by.name, request.by.roles, "member.manage")
    remove_member(node.db, node.identity, request.name, node.now())
    tell_peers_of_member(node, "removed", request.name, node.now())
    node.paths.member_key(request.name).unlink(missing_ok=True)


@dataclass(frozen=True)
class ChangeRole:
    by: Member
    name: str
    role: str
    give: bool  # False: take it away


def change_role(node: Node, request: ChangeRole) -> Member:
    """The member with the role given or taken, under a new certificate."""
    require(request.by.name, request.by.roles, "member.manage")
    name = request.name
    current = set(node.member(name).roles)
    wanted = current | {request.role} if request.give else current - {request.role}
    if not wanted:
        raise MemberError(f"{name} would have no role left; remove the member instead")
    if not request.give and request.role == "admin":
        others = [m for m in list_members(node.db) if "admin" in m.roles and m.name != name]
        if not others:
            raise MemberError("refusing to take away the last admin's role")
    return set_roles(node.db, node.identity, name, check_roles(sorted(wanted)), node.now())


@dataclass(frozen=True)
class SetPassword:
    by: Member
    name: str
    password: str


def password_target(node: Node, by: Member, name: str) -> Member:
    """The member whose password ``by`` may set: their own, or anyone's for an admin (asked
    before a password is typed, and again by :func:`set_password`)."""
    if by.name != name:
        require(by.name, by.roles, "member.manage")
    return node.member(name)


def set_password(node: Node, request: SetPassword) -> Member:
    """Set a member's password for signing in to the web UI."""
    target = password_target(node, request.by, request.name)
    password_hash = hash_password(request.password)  # checks the length first
    with transaction(node.db):
        set_password_hash(node.db, target.name, password_hash)
        append_event(node.db, node.identity, "member.password", target.name, {}, node.now())
    return target


@dataclass(frozen=True)
class CreateToken:
    by: Member
    name: str
    label: str


@dataclass(frozen=True)
class NewToken:
    token: MemberToken
    secret: str  # shown once: the node keeps only its keyed hash


def create_token(node: Node, request: CreateToken) -> NewToken:
    """A read-only API token for a member's scripts (their own, or anyone's for an admin)."""
    target = password_target(node, request.by, request.name)
    token_id, secret = new_token()
    token = MemberToken(token_id, target.name, request.label.strip(), node.now())
    digest = token_digest(node.paths.root, secret, node.keys.home_key())
    add_token(node.db, node.identity, token, digest)
    return NewToken(token, secret)


def list_tokens(node: Node, by: Member, name: str | None = None) -> list[MemberToken]:
    """Tokens (never their secrets): a member's own, or anyone's for an admin."""
    if name is None:
        require(by.name, by.roles, "member.manage")
    else:
        password_target(node, by, name)
    return tokens_of(node.db, name)


@dataclass(frozen=True)
class RevokeToken:
    by: Member
    token_id: str


def revoke_token(node: Node, request: RevokeToken) -> MemberToken:
    """End a token now: their own, or anyone's for an admin."""
    owner = next((t.member for t in tokens_of(node.db) if t.id == request.token_id), None)
    if owner is not None:
        password_target(node, request.by, owner)
    return remove_token(node.db, node.identity, request.token_id, node.now())
