"""Answer only requests addressed to this node: the defence against DNS rebinding.

A web page the operator visits can make its own name (``evil.example``) resolve to
127.0.0.1. The browser then lets that page read whatever this node answers to
``http://evil.example:8470/``, since to the browser it is the page's own site. Such a request
arrives from loopback, but its ``Host`` header still names the attacker's domain: a node that
answers only to its own names reads nothing for it.

The names a node answers to: the host of ``[node] url``, the address it is bound to
(``[server] host``) and the address the connection actually arrived on (for a node bound to
0.0.0.0, the LAN address people type), ``localhost``, ``127.0.0.1``, ``[::1]``, and whatever
the operator lists in ``[server] allowed_hosts`` (a reverse proxy's public name, say). The
port is not compared: a rebinding page cannot choose the node's port, only the name, and a
proxy in front may forward any port. Every route is checked, ``/healthz`` too: its answer
describes the node, and a monitor can use an address like 127.0.0.1.
"""

from __future__ import annotations

import html
import ipaddress
import re
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from node.config import NodeConfig
from node.web.errors import error_response, wants_a_page

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")
_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")
_PORT = re.compile(r"^[0-9]{1,5}$")
MAX_HOST_CHARS = 300


def allowed_host_names(config: NodeConfig) -> frozenset[str]:
    """Every name this node answers to by its configuration (normalized)."""
    names = {*LOOPBACK_NAMES, *config.allowed_hosts}
    url_host = urlsplit(config.url).hostname
    if url_host:
        names.add(url_host)
    if config.host not in WILDCARD_ADDRESSES:
        names.add(config.host)
    return frozenset(normal for name in names if (normal := normalize_name(name)) is not None)


def normalize_name(name: str) -> str | None:
    """A host name or address in one spelling: lower case, no final dot, IPv6 compressed and
    without brackets; None if it is neither a DNS name nor an IP address."""
    name = name.strip().lower().removesuffix(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    return name if _NAME.match(name) else None


def host_header_name(header: str) -> str | None:
    """The name in a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), normalized;
    None if the header is malformed."""
    if len(header) > MAX_HOST_CHARS:
        return None
    if header.startswith("["):
        name, bracket, port = header[1:].partition("]")
        if not bracket or (port and not (port.startswith(":") and _PORT.match(port[1:]))):
            return None
    else:
        name, colon, port = header.partition(":")
        if colon and not _PORT.match(port):
            return None
    return normalize_name(name) if name else None


def arrival_address(request: web.Request) -> str | None:
    """The local address this connection arrived on (for a node bound to every address)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not isinstance(sockname, tuple) or not sockname:
        return None
    return normalize_name(str(sockname[0]))


def host_check(config: NodeConfig) -> Middleware:
    """The middleware: a request naming another host gets 421, before anything is read."""
    allowed = allowed_host_names(config)

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Host")
        name = None if header is None else host_header_name(header)
        if name is not None and (name in allowed or name == arrival_address(request)):
            return await handler(request)
        if name is None:
            return _refusal(request, 400, "bad_request", "the request has no valid Host header")
        message = (
            f"this node does not answer to the name {name!r}: it protects itself against "
            "DNS rebinding. If this is the node's own address, list it in [server] "
            "allowed_hosts in config.toml (or set [node] url) and restart the node"
        )
        return _refusal(request, 421, "misdirected_request", message)

    return check_host


def _refusal(request: web.Request, status: int, code: str, message: str) -> web.Response:
    """The one error shape, or for a browser a bare page: nothing of the node (no name, no
    member, no token) goes to a page that may be the attacker's."""
    if not wants_a_page(request):
        return error_response(status, code, message)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Wrong address</title></head><body><h1>Wrong address</h1>"
        f"<p>{html.escape(message)}.</p></body></html>"
    )
    return web.Response(
        status=status,
        text=page,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'none'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
