"""Who is asking: the client's address and whether its request came over HTTPS.

Every part of the web layer that needs either (the sign-in guard's per-address delays, log
lines, the session cookie's ``Secure`` flag) asks :func:`client_of`, so one rule decides.

A reverse proxy makes every request come from its own address and may speak plain HTTP to
the node while the browser used HTTPS; it says what it saw in ``X-Forwarded-For`` and
``X-Forwarded-Proto``. Anyone can send those headers, so they are honoured only when the
request's direct sender is listed in ``[server] trusted_proxies``; from anyone else they are
ignored, and a header cannot make a stranger look like loopback or like another address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies", tuple)
_CLIENT = web.RequestKey["Client"]("client")


@dataclass(frozen=True)
class Client:
    address: str  # "" when unknown (a Unix socket)
    https: bool


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``[server] trusted_proxies`` as networks (an address alone is a network of one);
    raise ValueError for an entry that is neither."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def client_of(request: web.Request) -> Client:
    """The client's address and scheme: what the connection says, or what a trusted proxy
    says it saw (computed once per request)."""
    if _CLIENT not in request:
        request[_CLIENT] = _client(request, request.app.get(TRUSTED, ()))
    return request[_CLIENT]


def _client(request: web.Request, trusted: tuple[Network, ...]) -> Client:
    direct = request.remote or ""
    transport = request.transport
    https = transport is not None and transport.get_extra_info("sslcontext") is not None
    if not _within(direct, trusted):
        return Client(direct, https)
    forwarded_for = request.headers.getall("X-Forwarded-For", [])
    chain = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    address = direct
    # From the right: each trusted proxy vouches for the hop before it; the first hop that
    # is not a trusted proxy is the client (anything left of it the client wrote itself).
    for hop in reversed(chain):
        if not _is_address(hop):
            break
        address = hop
        if not _within(hop, trusted):
            break
    proto = request.headers.get("X-Forwarded-Proto", "")
    if proto:
        https = proto.split(",")[-1].strip().lower() == "https"
    return Client(address, https)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
