"""Who may read what: every page and every API route needs a signed-in member, from this
machine too.

There is no exemption for loopback: a reverse proxy, another user on the machine and a
browser exploit all arrive from 127.0.0.1. :func:`access_layer` refuses by default, before
any handler runs, so a route added tomorrow is closed until it is named here:

- :data:`OPEN_ROUTES` answer anyone: ``/healthz``, ``/metrics`` (counts only), the sign-in
  page and what it needs (static files, ``/api/v1/session``), and the OpenAPI document (it
  describes the API every node has, nothing of this node). Federation routes are open too:
  every request there is signed by a paired peer's node key and checked by the routes.
- :data:`PUBLIC_READ_ROUTES` (listing, searching and reading lessons, and their pages) answer
  anyone when the operator set ``[server] public_read = true``, and then only lessons whose
  consent scope is ``public`` (:func:`public_only` tells the handler to narrow).
- Everything else needs a member: a session cookie, HTTP Basic or an API token
  (:func:`node.web.auth.current_member`). A browser is sent to the sign-in page; a program
  gets ``401`` in the one error shape, with a ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from node.node import Node
from node.web.auth import NotSignedIn, current_member
from node.web.errors import MACHINE_PREFIXES, Handler, error_response

OPEN_ROUTES = frozenset(
    {
        "healthz",
        "metrics",
        "static",
        "page_signin",
        "page_signin_post",
        "api_session",
        "api_sign_in",
        "api_sign_out",
        "api_openapi",
    }
)
PUBLIC_READ_ROUTES = frozenset(
    {"api_lessons", "api_lesson", "page_home", "page_search", "page_lesson"}
)
CHALLENGE = 'Basic realm="rhizome", charset="UTF-8", Bearer realm="rhizome"'
_PUBLIC_ONLY = web.RequestKey[bool]("public_only")


def public_only(request: web.Request) -> bool:
    """True when nobody signed in and ``public_read`` let the request in: the handler shows
    lessons of consent scope ``public`` only, and nothing about members or peers."""
    return _PUBLIC_ONLY in request


def access_layer(node: Node, more_open: Iterable[str] = ()) -> Middleware:
    """The middleware that lets a request reach its handler only as described above;
    ``more_open`` names routes that authenticate by themselves (federation)."""
    open_routes = OPEN_ROUTES | frozenset(more_open)

    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        match = request.match_info
        if match.http_exception is not None or match.route.name in open_routes:
            return await handler(request)  # unmatched: a 404 or 405 that says nothing
        if await current_member(request, node) is not None:
            return await handler(request)
        if (
            node.config.public_read
            and match.route.name in PUBLIC_READ_ROUTES
            and request.method in ("GET", "HEAD")
        ):
            request[_PUBLIC_ONLY] = True
            return await handler(request)
        return _refusal(request)

    return access


def _refusal(request: web.Request) -> web.StreamResponse:
    if request.path.startswith(MACHINE_PREFIXES):
        response = error_response(401, NotSignedIn.code, NOT_SIGNED_IN)
        response.headers["WWW-Authenticate"] = CHALLENGE
        return response
    from node.web.pages.common import see_other, sign_in_location  # pages build on this

    return see_other(sign_in_location(request))


NOT_SIGNED_IN = (
    "sign in first: a session (POST /api/v1/session), HTTP Basic credentials or an API "
    "token (Authorization: Bearer …, made with `rhizome member token create`)"
)
