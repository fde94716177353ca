"""Sync now: which peers a sync covers and what its outcome says, for every front-end.

``rhizome sync``, ``POST /api/v1/peers/{peer}/sync`` and the Peers page's Sync now button
all pick peers with :func:`peers_to_sync` (which checks the member may sync), run
:func:`sync_now` (the same exchange the background schedule runs,
:func:`federation.sync.sync_with_peer`) and word the result with :func:`outcome`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from federation.background import SyncService
from federation.client import PeerClient
from federation.errors import DeadlineExceeded
from federation.peers import Peer, list_peers, resolve_peer
from federation.sync import SyncReport, sync_with_peer
from governance.members import Member
from governance.roles import require
from node.i18n import gettext as _
from node.node import Node

SyncOne = Callable[[Peer], Awaitable[SyncReport]]
T = TypeVar("T")
# The web page waits this long for Sync now; a longer sync stops here and the next one
# (background, or another click) carries on where it stopped: what arrived is kept.
WEB_DEADLINE = 60.0


class SyncDeadline(DeadlineExceeded):
    """A sync asked for from the web ran past :data:`WEB_DEADLINE` and stopped there. What
    arrived is kept; the next sync (background, or another request) carries on from it."""


def peers_to_sync(node: Node, member: Member, peer_ref: str | None) -> list[Peer]:
    """The peers ``member`` asks to sync with now, if they may (``sync``): the named peer, or
    every active peer (a suspended peer named on purpose is tried, and its report says it
    must be resumed first)."""
    require(member.name, member.roles, "sync")
    db = node.db
    if peer_ref is None:
        return [peer for peer in list_peers(db) if peer.status == "active"]
    return [resolve_peer(db, peer_ref)]


async def sync_now(peers: list[Peer], sync_one: SyncOne) -> list[SyncReport]:
    """One exchange with each peer in turn; errors are in the reports, never raised."""
    return [await sync_one(peer) for peer in peers]


async def sync_now_from_server(
    service: SyncService | None, node: Node, peers: list[Peer]
) -> list[SyncReport]:
    """Sync now for a web request (page or API), within :data:`WEB_DEADLINE`: through the
    running node's sync service (never twice at once with one peer), or a short-lived client
    when the app runs without one."""
    try:
        async with asyncio.timeout(WEB_DEADLINE):
            if service is not None:
                return await sync_now(peers, service.sync_peer)
            return await with_peer_client(
                None, node, lambda client: sync_now(peers, lambda p: sync_with_peer(client, p))
            )
    except TimeoutError as error:
        raise SyncDeadline(
            f"the sync was still running after {WEB_DEADLINE:.0f} seconds and stopped there; "
            "what arrived is kept, and the next sync carries on"
        ) from error


async def with_peer_client(
    service: SyncService | None, node: Node, work: Callable[[PeerClient], Awaitable[T]]
) -> T:
    """Run ``work`` with the running node's federation client (its sync service's), or a
    short-lived one when the app runs without one."""
    if service is not None:
        return await work(service.client)
    async with aiohttp.ClientSession() as session:
        return await work(PeerClient(node.local_node(), session))


def outcome(name: str, report: SyncReport) -> str:
    """``Manila Hub: received 2, sent 1 (ok)``, in the current language (the errors as the
    federation layer words them)."""
    result = "; ".join(report.errors) or _("ok")
    return _("{name}: received {received}, sent {sent} ({result})").format(
        name=name, received=report.received, sent=report.sent, result=result
    )


def report_json(report: SyncReport) -> dict[str, Any]:
    return {
        "peer": report.peer,
        "received": report.received,
        "sent": report.sent,
        "rejected": report.rejected,
        "rounds": report.rounds,
        "errors": report.errors,
    }
