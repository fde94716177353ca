"""The language a member reads the node in (web pages and CLI messages).

A member's own choice, stored beside them in ``members.language``; no choice (NULL) means
the browser's ``Accept-Language`` decides. Which languages a hub speaks is the node's
business (``node.i18n.LANGUAGES``): here a language is only checked to be a plain tag.
"""

from __future__ import annotations

import re

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.errors import N_
from crypto.signing import SigningIdentity
from governance.members import MemberError, active_member

_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def m046_member_language(db: sqlite_utils.Database) -> None:
    """Each member may pick the language the node speaks to them (NULL: the browser's)."""
    db.execute("ALTER TABLE members ADD COLUMN language TEXT")


def member_language(db: sqlite_utils.Database, name: str) -> str | None:
    """The language ``name`` chose, or None (never chosen, or no such member)."""
    row = db.execute("SELECT language FROM members WHERE name = ?", [name]).fetchone()
    return None if row is None or not row[0] else str(row[0])


def set_member_language(
    db: sqlite_utils.Database, node: SigningIdentity, name: str, language: str | None, now: int
) -> None:
    """Store ``name``'s language (None: follow the browser again) and log the change."""
    if language is not None and not _TAG.match(language):
        raise MemberError.worded(
            N_("{value} is not a language tag such as es or pt-BR"), value=repr(language)
        )
    with transaction(db):
        active_member(db, name)
        db.execute("UPDATE members SET language = ? WHERE name = ?", [language, name])
        append_event(db, node, "member.language", name, {"language": language or ""}, now)
