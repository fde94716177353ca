"""Sync now: which peers a sync covers and what its outcome says, for every front-end.

``rhizome sync`` and the Peers page's Sync now button both pick peers with
:func:`peers_to_sync`, run :func:`sync_now` (the same exchange the background schedule
runs, :func:`federation.sync.sync_with_peer`) and word the result with :func:`outcome`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlite_utils

from federation.peers import Peer, list_peers, resolve_peer
from federation.sync import SyncReport

SyncOne = Callable[[Peer], Awaitable[SyncReport]]
# The web page waits this long for Sync now; a longer sync stops here and the next one
# (background, or another click) carries on where it stopped: what arrived is kept.
WEB_DEADLINE = 60.0


def peers_to_sync(db: sqlite_utils.Database, peer_ref: str | None) -> list[Peer]:
    """The named peer, or every active peer (a suspended peer named on purpose is tried,
    and its report says it must be resumed first)."""
    if peer_ref is None:
        return [peer for peer in list_peers(db) if peer.status == "active"]
    return [resolve_peer(db, peer_ref)]


async def sync_now(peers: list[Peer], sync_one: SyncOne) -> list[SyncReport]:
    """One exchange with each peer in turn; errors are in the reports, never raised."""
    return [await sync_one(peer) for peer in peers]


def outcome(name: str, report: SyncReport) -> str:
    """``Manila Hub: received 2, sent 1 (ok)``."""
    result = "; ".join(report.errors) or "ok"
    return f"{name}: received {report.received}, sent {report.sent} ({result})"


def report_json(report: SyncReport) -> dict[str, Any]:
    return {
        "peer": report.peer,
        "received": report.received,
        "sent": report.sent,
        "rejected": report.rejected,
        "rounds": report.rounds,
        "errors": report.errors,
    }
