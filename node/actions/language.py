"""A member's language: the one the web pages speak to them (``rhizome member language``,
the Settings page). A member chooses their own; an admin (``member.manage``) may choose for
anyone, for a member who cannot read the current one."""

from __future__ import annotations

from dataclasses import dataclass

from governance.member_language import member_language, set_member_language
from governance.members import Member, MemberError, active_member
from governance.roles import require
from node.i18n import LANGUAGES, NATIVE_NAMES
from node.node import Node

FOLLOW_BROWSER = "browser"  # what the CLI and the form call "no choice: Accept-Language"


@dataclass(frozen=True)
class ChooseLanguage:
    by: Member
    name: str
    language: str  # one of LANGUAGES, or FOLLOW_BROWSER


def choose_language(node: Node, request: ChooseLanguage) -> str | None:
    """Store the member's language; None when they follow their browser again."""
    if request.by.name != request.name:
        require(request.by.name, request.by.roles, "member.manage")
    active_member(node.db, request.name)
    if request.language != FOLLOW_BROWSER and request.language not in LANGUAGES:
        known = ", ".join(f"{code} ({NATIVE_NAMES[code]})" for code in LANGUAGES)
        raise MemberError(
            f"{request.language!r} is not a language of this hub; choose one of {known}, "
            f"or {FOLLOW_BROWSER} to follow the browser"
        )
    chosen = None if request.language == FOLLOW_BROWSER else request.language
    set_member_language(node.db, node.identity, request.name, chosen, node.now())
    return chosen


def language_of(node: Node, name: str) -> str | None:
    return member_language(node.db, name)
