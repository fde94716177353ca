"""The curators' queues: lessons waiting for approvals, lessons from peers in quarantine."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from archive.queries import RecordSummary, latest_of_origin
from archive.record import SENSITIVITIES, consent_from_json
from federation.peers import list_peers
from federation.sharing import Offer
from governance.approvals import ApprovalRecord, approvals_of
from governance.quarantine import quarantined_records
from node.actions import in_worker_thread
from node.actions import lessons as actions
from node.actions.lessons import ReviewQuarantined
from node.i18n import gettext as _
from node.node import Node
from node.web.auth import acting_member
from node.web.pages.common import (
    flash,
    html_page,
    node_of,
    peer_names,
    readable,
    render,
    see_other,
)

routes = web.RouteTableDef()
MAX_QUEUE = 200


@dataclass(frozen=True)
class Waiting:
    """A lesson of ours that may not leave yet for want of curator approvals."""

    record: RecordSummary
    approvals: list[ApprovalRecord]
    counted: int
    needed: int
    blocked_for: list[str]  # active peers for whom approval is all that is missing

    @property
    def approvers(self) -> list[str]:
        return [approval.member for approval in self.approvals]


@routes.get("/approvals", name="page_approvals")
@html_page
async def approvals_page(request: web.Request) -> web.Response:
    node = await readable(request)
    waiting = await in_worker_thread(node, approval_queue, None)  # decisions for every peer
    return await render(request, "approvals.html", {"waiting": waiting})


def approval_queue(node: Node, asked: None = None) -> list[Waiting]:
    """Our newest versions whose consent lets them leave but whose sensitivity needs more
    counted curator approvals than they have (as the decision function counts them)."""
    policy = node.policy()
    levels = [level for level in SENSITIVITIES if policy.approvals_needed(level) > 0]
    if not levels:
        return []
    candidates = latest_of_origin(node.db, node.node_id, levels, MAX_QUEUE)
    sharing = Offer(node.db, node.node_id, policy, node.now())
    peers = [peer for peer in list_peers(node.db) if peer.status == "active"]
    queue = []
    for record, consent_json in candidates:
        consent = consent_from_json(consent_json)
        if consent.basis != "consent" or consent.scope == "local":
            continue  # it never leaves, so no approval is asked for
        approvals = approvals_of(node.db, record.id, record.author)
        counted = sum(1 for approval in approvals if approval.counts)
        needed = policy.approvals_needed(record.sensitivity)
        if counted >= needed:
            continue
        blocked = []
        for peer in peers:
            decision = sharing.explain(record.id, peer)
            if decision is not None and [r.code for r in decision.denials] == ["needs_approval"]:
                blocked.append(peer.name)
        queue.append(Waiting(record, approvals, counted, needed, blocked))
    return queue


@routes.get("/quarantine", name="page_quarantine")
@html_page
async def quarantine_page(request: web.Request) -> web.Response:
    node = await readable(request)
    records = await in_worker_thread(node, _quarantined, None)
    context = {"records": records, "names": peer_names(node)}
    return await render(request, "quarantine.html", context)


@routes.post("/quarantine/{id}/accept", name="page_accept")
@html_page
async def accept(request: web.Request) -> web.Response:
    """Let a quarantined lesson show in list and search (as ``rhizome lesson accept``)."""
    node = node_of(request)
    member = await acting_member(request, node, "lesson.review")
    asked = ReviewQuarantined(member, request.match_info["id"])
    full_id = await in_worker_thread(node, actions.accept_lesson, asked)
    await flash(request, _("Accepted lesson {id}: it now shows in search.").format(id=full_id[:12]))
    return see_other("/quarantine")


@routes.post("/quarantine/{id}/reject", name="page_reject")
@html_page
async def reject(request: web.Request) -> web.Response:
    """Refuse a quarantined lesson: purged, never fetched again (``rhizome lesson reject``)."""
    node = node_of(request)
    member = await acting_member(request, node, "lesson.review")
    asked = ReviewQuarantined(member, request.match_info["id"])
    full_id = await in_worker_thread(node, actions.reject_lesson, asked)  # purges: off the loop
    await flash(request, _("Rejected lesson {id}: purged from this hub.").format(id=full_id[:12]))
    return see_other("/quarantine")


def _quarantined(node: Node, asked: None) -> list[RecordSummary]:
    return quarantined_records(node.db)
