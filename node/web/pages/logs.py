"""The policy with its ``explain`` form, the event log and the decision log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from archive.event_log import recent_events
from crypto.errors import RhizomeError
from federation.peers import list_peers, resolve_peer
from federation.sharing import Offer
from governance.decision_log import recent_decisions
from governance.policy_binding import binding_warnings
from node.node import Node
from node.reason_words import say_reason
from node.web.pages.common import html_page, peer_names, readable, render
from node.web.pages.words import detail_words

routes = web.RouteTableDef()
LOG_LENGTH = 100
MAX_LOG_LENGTH = 1_000


@routes.get("/policy", name="page_policy")
@html_page
async def policy_page(request: web.Request) -> web.Response:
    """The policy in force, and why a lesson may or may not go to a peer (``?record&peer``)."""
    node = await readable(request)
    record_text = request.query.get("record", "").strip()
    peer_text = request.query.get("peer", "").strip()
    in_force = node.policy()  # a policy that cannot be read says why, first
    context: dict[str, Any] = {
        "policy_text": node.paths.policy.read_text(encoding="utf-8"),
        "policy_hash": in_force.hash,
        "binding_warnings": binding_warnings(in_force),
        "peers": list_peers(node.db),
        "record_text": record_text,
        "peer_text": peer_text,
        "explained": None,
        "explain_error": None,
    }
    status = 200
    if record_text or peer_text:
        try:
            context["explained"] = explain(node, record_text, peer_text)
        except RhizomeError as error:
            context["explain_error"] = str(error)
            status = 400
    return await render(request, "policy.html", context, status=status)


def explain(node: Node, record_text: str, peer_text: str) -> dict[str, Any]:
    """``rhizome policy explain ID PEER``: the decision, and every reason in words."""
    full_id = node.resolve_id(record_text)
    peer = resolve_peer(node.db, peer_text)
    decision = Offer(node.db, node.node_id, node.policy(), node.now()).explain(full_id, peer)
    assert decision is not None  # resolve_id found the record
    reasons = [(reason, say_reason(reason)) for reason in decision.reasons]
    return {"record_id": full_id, "peer": peer, "decision": decision, "reasons": reasons}


@routes.get("/events", name="page_events")
@html_page
async def events_page(request: web.Request) -> web.Response:
    node = await readable(request)
    names = peer_names(node)
    rows = [
        (event, detail_words(event.detail, names))
        for event in recent_events(node.db, _limit(request))
    ]
    return await render(request, "events.html", {"events": rows, "names": names})


@routes.get("/decisions", name="page_decisions")
@html_page
async def decisions_page(request: web.Request) -> web.Response:
    node = await readable(request)
    record_text = request.query.get("record", "").strip()
    record_id = node.resolve_id(record_text) if record_text else None
    decisions = recent_decisions(node.db, _limit(request), record_id)
    context = {"decisions": decisions, "names": peer_names(node), "record_id": record_id}
    return await render(request, "decisions.html", context)


def _limit(request: web.Request) -> int:
    text = request.query.get("limit", str(LOG_LENGTH))
    if not (
        text.isascii() and text.isdigit() and len(text) < 6 and 0 < int(text) <= MAX_LOG_LENGTH
    ):
        raise web.HTTPBadRequest(reason=f"limit must be a whole number from 1 to {MAX_LOG_LENGTH}")
    return int(text)
