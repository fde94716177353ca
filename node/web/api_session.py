"""The JSON API's sign-in: ``/api/v1/session`` (who am I, sign in, sign out).

A wrong name and a wrong password get the same answer after the same work; repeated
failures from one address or for one name are refused for a growing time (429), like the
sign-in page, through the same :func:`node.web.auth.verify_sign_in`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from governance.members import Member
from node.web.api import NODE
from node.web.api_types import SignIn
from node.web.auth import (
    NotSignedIn,
    csrf_token,
    current_member,
    sign_in,
    sign_out,
    verify_sign_in,
)
from node.web.json_bodies import body_of

routes = web.RouteTableDef()


@routes.get("/api/v1/session", name="api_session")
async def session_info(request: web.Request) -> web.Response:
    """Who this client is signed in as, and the CSRF token its session writes must send."""
    member = await current_member(request, request.app[NODE])
    return web.json_response(session_json(member, await csrf_token(request)))


@routes.post("/api/v1/session", name="api_sign_in")
async def session_sign_in(request: web.Request) -> web.Response:
    """Sign in with a member's name and password; the answer carries the CSRF token."""
    asked = await body_of(request, SignIn)
    member = await verify_sign_in(request, request.app[NODE], asked.name, asked.password)
    if member is None:  # logged by verify_sign_in, like a refusal on the page
        raise NotSignedIn("wrong member name or password")
    await sign_in(request, member)
    return web.json_response(session_json(member, await csrf_token(request)))


@routes.delete("/api/v1/session", name="api_sign_out")
async def session_sign_out(request: web.Request) -> web.Response:
    await sign_out(request)
    return web.json_response({"member": None, "roles": []})


def session_json(member: Member | None, token: str) -> dict[str, Any]:
    return {
        "member": None if member is None else member.name,
        "roles": [] if member is None else list(member.roles),
        "csrf_token": token,
    }
