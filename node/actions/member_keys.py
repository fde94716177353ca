"""A member's key marked compromised: the one place the CLI (and later the pages) call."""

from __future__ import annotations

from dataclasses import dataclass

from governance.members import Member, mark_compromised
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
    node.paths.member_key(request.name).unlink(missing_ok=True)
