"""Governance's migration m032 (registered in :mod:`governance.schema`): a member's key may be
marked compromised from a moment on (governance/members.py ``mark_compromised``); approvals
stored from that moment on no longer count (governance/approvals.py)."""

from __future__ import annotations

import sqlite_utils


def m032_member_key_compromise(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE members ADD COLUMN compromised_since INTEGER")
