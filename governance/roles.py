"""Roles and what each lets a member do.

The table is the whole rule: a member may act when any of their roles is listed for the
action. Approving is for curators only, so an admin cannot wave records through alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from crypto.errors import RhizomeError

ROLES = ("admin", "steward", "curator", "author")

PERMISSIONS: dict[str, frozenset[str]] = {
    "lesson.add": frozenset({"author", "admin"}),
    "collection.curate": frozenset({"curator", "admin"}),
    "lesson.approve": frozenset({"curator"}),
    "lesson.review": frozenset({"curator", "steward", "admin"}),
    "lesson.revoke": frozenset({"steward", "admin"}),
    "member.manage": frozenset({"admin"}),
    "node.wipe": frozenset({"admin"}),
    "peer.manage": frozenset({"admin", "steward"}),
    "sync": frozenset({"admin", "steward"}),
}

ACTION_WORDS = {
    "lesson.add": "add lessons",
    "collection.curate": "build collections",
    "lesson.approve": "approve lessons",
    "lesson.review": "accept or reject quarantined lessons",
    "lesson.revoke": "revoke other members' lessons",
    "member.manage": "manage members",
    "node.wipe": "wipe this node",
    "peer.manage": "manage peers",
    "sync": "sync with peers",
}


class NotAllowed(RhizomeError):
    """The acting member's roles do not allow this. Act as another member (``--as``) or
    ask an admin to grant the role (``rhizome member role add NAME ROLE``)."""

    http_status = 403
    code = "forbidden"


def may(roles: Iterable[str], action: str) -> bool:
    return bool(PERMISSIONS[action] & set(roles))


def require(member: str, roles: Iterable[str], action: str) -> None:
    """Raise :class:`NotAllowed` unless ``roles`` allow ``action``."""
    if not may(roles, action):
        needed = " or ".join(sorted(PERMISSIONS[action]))
        raise NotAllowed(f"{member} may not {ACTION_WORDS[action]}: that needs the role {needed}")


def may_revoke(member: str, roles: Iterable[str], author_here: str | None) -> bool:
    """A lesson's author may withdraw it, stewards and admins any: ``author_here`` is the
    author of a lesson written on this node (None for one from a peer, which only its own
    node can withdraw)."""
    return author_here is not None and (member == author_here or may(roles, "lesson.revoke"))


def require_may_revoke(member: str, roles: Iterable[str], author_here: str | None) -> None:
    """Raise :class:`NotAllowed` unless the member wrote the lesson here or is a steward or
    an admin (whether it was written here at all, the revocation itself checks)."""
    if member != author_here and not may(roles, "lesson.revoke"):
        raise NotAllowed(f"{member} may revoke only their own lessons (stewards and admins any)")
