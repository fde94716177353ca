"""A member's key marked compromised (or a member removed): the one place the CLI (and later
the pages) call; peers are told with a signed notice (federation/member_notices.py)."""

from __future__ import annotations

from dataclasses import dataclass

from federation.member_notices import issue_member_notice
from governance.members import Member, get_member, mark_compromised
from governance.roles import require
from node.node import Node


@dataclass(frozen=True)
class MarkCompromised:
    by: Member
    name: str
    since: int  # Unix seconds: approvals stored from then on stop counting


def mark_member_compromised(node: Node, request: MarkCompromised) -> None:
    """The member can no longer act; approvals stored from ``since`` on stop counting (every
    later decision and ``policy explain`` says why); their key file here is deleted."""
    require(request.by.name, request.by.roles, "member.manage")
    mark_compromised(node.db, node.identity, request.name, request.since, node.now())
    tell_peers_of_member(node, "compromised", request.name, request.since)
    node.paths.member_key(request.name).unlink(missing_ok=True)


def tell_peers_of_member(node: Node, kind: str, name: str, since: int) -> None:
    """A signed notice for every peer (handed over at the next exchange with each): withdrawals
    that member signed from ``since`` on are shown to their operators as doubtful."""
    member = get_member(node.db, name)
    assert member is not None  # just marked or removed
    issue_member_notice(node.db, node.identity, kind, name, member.public_key, since, node.now())
