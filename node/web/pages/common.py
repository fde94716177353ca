"""What every page shares: the layout's context, errors as HTML pages, forms and redirects.

The JSON error middleware answers every error it sees with JSON, so each page handler is
wrapped in :func:`html_page`, which turns our errors into a friendly HTML page first (and a
browser that must sign in into a redirect to the sign-in form).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from multidict import MultiDictProxy

from archive.db import is_storage_full, storage_full
from crypto.errors import RhizomeError
from federation.background import SyncService
from federation.peers import list_peers
from governance.members import Member
from governance.roles import may
from node.i18n import (
    DEFAULT,
    LANGUAGES,
    N_,
    NATIVE_NAMES,
    current_language,
    direction,
    remedy,
)
from node.i18n import gettext as _
from node.node import Node
from node.web.api import NODE, readable_node
from node.web.auth import CSRF_FIELD, BadCsrfToken, NotSignedIn, csrf_token, current_member
from node.web.keys import SYNC
from node.web.uploads import posted_form

log = logging.getLogger("rhizome.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Form = MultiDictProxy[Any]

# No script runs on these pages, nothing is framed, nothing is fetched from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Lessons can be sensitive: no copy of a page stays in a shared computer's cache.
    "Cache-Control": "no-store",
}
ERROR_TITLES = {
    400: N_("This request cannot be done"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not possible here"),
    413: N_("Too large"),
    429: N_("Too busy"),
    500: N_("Something went wrong"),
    503: N_("The hub is busy"),
    507: N_("The hub's disk is full"),
}
CSRF_MESSAGE = N_(
    "This form has expired or did not come from this hub's own pages. "
    "Go back, reload the page and try again."
)


def node_of(request: web.Request) -> Node:
    return request.app[NODE]


async def readable(request: web.Request) -> Node:
    """The node, for a visitor the access layer let in (:mod:`node.web.access`): a signed-in
    member, or, on the lesson pages with ``[server] public_read``, a public reader."""
    return readable_node(request)


async def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> web.Response:
    """A page in the layout: the signed-in member, the CSRF token and any message for them."""
    node = node_of(request)
    member = await current_member(request, node)
    session = await get_session(request)
    base = {
        "hub": node.config,
        "tls_fingerprint": node.tls_fingerprint,  # beside the node id in the footer
        # The node id stays the first key's; after a rotation the key in use is shown beside.
        "current_key": node.identity.key_id,
        "unsealed": not node.sealed,  # a banner: this hub lies in plain text on disk
        "member": member,
        "may": _permissions(member),
        "csrf_field": CSRF_FIELD,
        "csrf_token": await csrf_token(request),
        "flash": session.pop("flash", None),
        "path": request.path,
        "lang": current_language(),  # <html lang dir>: the page's own words, not the lessons'
        "dir": direction(current_language()),
        "languages": LANGUAGES,
        "native_names": NATIVE_NAMES,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _permissions(member: Member | None) -> Callable[[str], bool]:
    def allowed(action: str) -> bool:
        return member is not None and may(member.roles, action)

    return allowed


async def flash(request: web.Request, message: str) -> None:
    """A one-line message shown on the next page this browser sees."""
    (await get_session(request))["flash"] = message


def see_other(location: str) -> web.Response:
    """After a form: go to ``location`` with GET (so reloading does not post again)."""
    return web.Response(status=303, headers={"Location": location, **SECURITY_HEADERS})


def local_path(text: str | None, default: str = "/") -> str:
    """``text`` if it is a path on this site (never another host), else ``default``."""
    if not text or not text.startswith("/") or text.startswith("//") or "\\" in text:
        return default
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return default  # no line breaks into the Location header
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return default
    return text


def sign_in_location(request: web.Request) -> str:
    """The sign-in form, coming back afterwards to this page (or the page the form was on)."""
    if request.method == "GET":
        back = request.path_qs
    else:
        referer = urlsplit(request.headers.get("Referer", ""))
        same_site = referer.netloc == request.host
        back = local_path(referer.path + (f"?{referer.query}" if referer.query else ""))
        back = back if same_site else "/"
    return "/signin?next=" + quote(back, safe="/")


def html_page(handler: Handler) -> Handler:
    """Answer errors of ``handler`` with an HTML page, and send browsers to sign in."""

    @functools.wraps(handler)
    async def page(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotSignedIn:
            return see_other(sign_in_location(request))
        except BadCsrfToken:
            return await error_page(request, 403, _(CSRF_MESSAGE))
        except web.HTTPException as error:
            if error.status < 400:
                raise
            return await error_page(request, error.status, error.reason)
        except RhizomeError as error:
            # Outside English, the translated remedy of the error's class comes first; the
            # exact line (names, values) stays as written.
            hint = remedy(error) if current_language() != DEFAULT else ""
            return await error_page(request, error.http_status, str(error), hint)
        except Exception as error:
            if is_storage_full(error):  # a file write on a full disk, as from the database
                return await error_page(request, 507, str(storage_full(error)))
            log.exception("unexpected error while serving %s %s", request.method, request.path)
            return await error_page(
                request, 500, _("the node hit an unexpected error; its log says more")
            )

    return page


async def error_page(
    request: web.Request, status: int, message: str, hint: str = ""
) -> web.Response:
    title = _(ERROR_TITLES.get(status, N_("This did not work")))
    context = {"status": status, "title": title, "message": message, "remedy": hint}
    return await render(request, "error.html", context, status=status)


async def form_of(request: web.Request) -> Form:
    """The posted form: a multipart one read as it arrives, within the attachment caps on the
    lesson form (no files elsewhere), in memory only (node.web.uploads)."""
    return await posted_form(request, node_of(request).config)


def field(form: Form, name: str, limit: int = 10_000) -> str:
    """One text field of a form ('' when absent), at most ``limit`` characters."""
    value = form.get(name, "")
    if not isinstance(value, str):
        raise web.HTTPBadRequest(reason=f"the field {name} must be text")
    if len(value) > limit:
        raise web.HTTPBadRequest(reason=f"the field {name} is longer than {limit} characters")
    return value


def peer_names(node: Node) -> dict[str, str]:
    """Node id → the name we know that peer by (removed peers included)."""
    return {peer.node_id: peer.name for peer in list_peers(node.db, include_removed=True)}


def sync_service(request: web.Request) -> SyncService | None:
    """The app's background sync, when it runs (``rhizome serve``; not in most tests)."""

    return request.app.get(SYNC)
