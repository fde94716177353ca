"""Peers: the list with each link's health and history, pairing by invite code (also as a
QR code), Sync now, suspend, resume, remove."""

from __future__ import annotations

from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from federation.errors import FederationError
from node.actions.peers import (
    ChangePeerStatus,
    InvitePeer,
    PairWithInvite,
    invite_peer,
    pair_with_invite,
    set_peer_status,
)
from node.i18n import N_
from node.i18n import gettext as _
from node.node import Node
from node.peer_sync import (
    SyncDeadline,
    outcome,
    peers_to_sync,
    sync_now_from_server,
    with_peer_client,
)
from node.status import peer_healths
from node.web.auth import acting_member
from node.web.pages.common import (
    field,
    flash,
    form_of,
    html_page,
    node_of,
    readable,
    render,
    see_other,
    sync_service,
)

routes = web.RouteTableDef()
MAX_CODE = 2_000
DONE = {
    "suspend": N_("Suspended {name}."),
    "resume": N_("Resumed {name}."),
    "remove": N_("Removed {name}."),
}


@routes.get("/peers", name="page_peers")
@html_page
async def peers_page(request: web.Request) -> web.Response:
    node = await readable(request)
    return await render(request, "peers.html", peers_context(node))


def peers_context(node: Node, **extra: Any) -> dict[str, Any]:
    return {
        "peers": peer_healths(node.db, node.node_id),
        "node_id": node.node_id,
        "invite": None,
        "pair_error": None,
        "code": "",
        **extra,
    }


@routes.post("/peers/invite", name="page_invite")
@html_page
async def invite(request: web.Request) -> web.Response:
    """A one-time invite code for another hub (as ``rhizome peer invite``), shown once."""
    node = node_of(request)
    member = await acting_member(request, node, "peer.manage")
    invitation = invite_peer(node, InvitePeer(member))
    text = invitation.code
    qr = segno.make(text, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title="Invite code as a QR code"
    )
    invite_shown = {
        "code": text, "expires": invitation.expires, "url": invitation.url, "qr": Markup(qr),
    }  # fmt: skip
    return await render(request, "peers.html", peers_context(node, invite=invite_shown))


@routes.post("/peers/pair", name="page_pair")
@html_page
async def pair(request: web.Request) -> web.Response:
    """Pair with the hub whose invite code was pasted (as ``rhizome peer add CODE``)."""
    node = node_of(request)
    member = await acting_member(request, node, "peer.manage")
    code = field(await form_of(request), "code", MAX_CODE).strip()
    asked = PairWithInvite(member, code)
    try:
        peer = await with_peer_client(
            sync_service(request), node, lambda client: pair_with_invite(client, asked)
        )
    except FederationError as error:
        context = peers_context(node, pair_error=str(error), code=code)
        return await render(request, "peers.html", context, status=400)
    await flash(
        request,
        _(
            "Paired with {name} ({region}). Their node id is {node_id}: compare it with the id "
            "their operator reads out to you."
        ).format(name=peer.name, region=peer.region, node_id=peer.node_id),
    )
    return see_other("/peers")


@routes.post("/peers/{peer}/{action:suspend|resume|remove}", name="page_peer_status")
@html_page
async def change_status(request: web.Request) -> web.Response:
    """Suspend, resume or remove a peer (as ``rhizome peer suspend|resume|remove``)."""
    node = node_of(request)
    member = await acting_member(request, node, "peer.manage")
    action = request.match_info["action"]
    changed = set_peer_status(node, ChangePeerStatus(member, request.match_info["peer"], action))
    await flash(request, _(DONE[action]).format(name=changed.name))
    return see_other("/peers")


@routes.post("/peers/{peer}/sync", name="page_peer_sync")
@html_page
async def sync_peer_now(request: web.Request) -> web.Response:
    """Sync with this peer now, both ways (as ``rhizome sync PEER``), and say how it went."""
    node = node_of(request)
    member = await acting_member(request, node, "sync")
    found = peers_to_sync(node, member, request.match_info["peer"])
    try:
        reports = await sync_now_from_server(sync_service(request), node, found)
        message = outcome(found[0].name, reports[0])
    except SyncDeadline as error:
        message = f"{found[0].name}: {error}"
    await flash(request, message)
    return see_other(f"/peers#peer-{found[0].node_id[:8]}")
