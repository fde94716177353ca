"""``/api/v1/purposes``: what this hub declares it uses lessons for (as ``rhizome purposes``).

The same actions as the CLI and the Settings page (node/actions/purposes.py): reading needs a
member, declaring needs ``peer.manage`` (admins and stewards). A new declaration reaches each
peer, signed, at the start of the next sync with it (federation/purposes.py).
"""

from __future__ import annotations

import logging

from aiohttp import web

from federation.purposes import Declaration
from node.actions import in_worker_thread
from node.actions.purposes import DeclareOwnPurposes, declare_purposes, declared_purposes
from node.serialize import iso_time
from node.web.api import NODE, challenge_basic, operator_node
from node.web.api_types import PurposesInput
from node.web.auth import acting_member
from node.web.json_bodies import body_of

log = logging.getLogger("rhizome.api")
routes = web.RouteTableDef()


def purposes_json(declared: Declaration | None) -> dict[str, object]:
    if declared is None:
        return {"purposes": [], "declared": None}
    return {"purposes": list(declared.purposes), "declared": iso_time(declared.at)}


@routes.get("/api/v1/purposes", name="api_purposes")
@challenge_basic
async def read_purposes(request: web.Request) -> web.Response:
    """This hub's declaration; ``declared`` is null when it never declared."""
    node = await operator_node(request)
    return web.json_response(purposes_json(declared_purposes(node)))


@routes.post("/api/v1/purposes", name="api_purposes_declare")
@challenge_basic
async def declare(request: web.Request) -> web.Response:
    """Declare what this hub uses lessons for (an empty list: none)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "peer.manage")
    words = (await body_of(request, PurposesInput)).purposes
    asked = DeclareOwnPurposes(member, tuple(words))
    declared = await in_worker_thread(node, declare_purposes, asked)  # signs an event
    log.info("purposes declared", extra={"purposes": len(declared.purposes),
                                         "member": member.name})  # fmt: skip
    return web.json_response(purposes_json(declared))
