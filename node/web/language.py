"""Which language a request is answered in: the member's choice, else the browser's.

The layer runs once per request, before the error layer, so error pages and JSON error
texts are in the same language as the page around them. A signed-in member's choice
(``rhizome member language``, the Settings page) wins; otherwise ``Accept-Language``;
otherwise English.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from governance.member_language import member_language
from node.i18n import DEFAULT, LANGUAGES, from_accept_language, set_language
from node.node import Node
from node.web.auth import current_member


def language_layer(node: Node) -> Middleware:
    @web.middleware
    async def choose_language(request: web.Request, handler: Handler) -> web.StreamResponse:
        chosen = await request_language(request, node)
        set_language(chosen)
        response = await handler(request)
        if not response.prepared:  # a streamed answer has sent its headers already
            response.headers.setdefault("Content-Language", chosen)
        return response

    return choose_language


LANGUAGE_KEY = web.RequestKey[str]("language")


async def request_language(request: web.Request, node: Node) -> str:
    """The language for this request (kept on the request for the page layout)."""
    chosen = None
    # Only a browser's session says who reads: credentials sent with the request (HTTP Basic,
    # a token) are checked once, by the layers that answer for them (rate limits, 401/429),
    # never here.
    member = None if "Authorization" in request.headers else await current_member(request, node)
    if member is not None:
        chosen = member_language(node.db, member.name)
    if chosen not in LANGUAGES:
        chosen = from_accept_language(request.headers.get("Accept-Language")) or DEFAULT
    request[LANGUAGE_KEY] = chosen
    return chosen
