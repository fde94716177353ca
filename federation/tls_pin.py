"""Pinning: a federation connection goes on only to the node key of the peer we meant.

No certificate authority is involved. A node's TLS certificate holds its Ed25519 node key,
and a node id *is* that key, so whoever knows the id (from the invite, or the signed pairing
answer) knows the one key the other end may present. :class:`NodeKeyPin` is handed to aiohttp
as the request's ``ssl=`` value: the connector checks it right after the TLS handshake, before
a single byte of the request is sent, and closes the connection if the key differs.

:func:`keys_for_peer` answers "which keys may this peer present": the current key of its
verified key history (archive/key_store.py), which is its first key until it rotates. A
retired key is never accepted: whoever stole it could otherwise stand in for the peer. Not
even the key-history exchange goes to a key we do not know: a peer that rotated while we were
offline teaches us its new key when it calls us (federation/key_exchange.py).

Plain ``http://`` carries everything readable, so it is never used except to this machine's
loopback addresses, unless the operator allowed it for a lab (``[federation]
allow_plain_http``): a peer's ``http://`` address is reached over ``https://`` on the same
host and port (:func:`federation_url`), pinned like any other.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import aiohttp
import sqlite_utils
from aiohttp.client_exceptions import ServerFingerprintMismatch
from yarl import URL

from archive.key_store import current_key
from crypto.errors import InvalidNodeId
from crypto.node_id import public_key_from_node_id
from crypto.tls_certificate import certificate_public_key
from federation.errors import PeerUnreachable

NOT_PINNED_WORDS = (
    "the other hub's certificate is not its node key: someone may be in the middle "
    "(or the address now leads to another machine); nothing was sent"
)


class PlainHttpRefused(PeerUnreachable):
    """A peer address is plain ``http://`` to another machine: everything sent would be
    readable on the way. Ask the peer for its ``https://`` address, or (for a lab only) set
    ``[federation] allow_plain_http = true``. Not the peer's fault: no strike."""


class PeerNotPinned(PeerUnreachable):
    """The other end presented a key that is not the peer's node key: a man in the middle,
    or an address that now leads elsewhere. Nothing was sent. No strike: the peer may be
    innocent."""


def keys_for_peer(node_id: str, db: sqlite_utils.Database | None = None) -> frozenset[bytes]:
    """The public keys the peer ``node_id`` may present in TLS: the current key of its key
    history (its first key when we know no history, or without a database)."""
    try:
        if db is None:
            return frozenset({public_key_from_node_id(node_id)})
        return frozenset({current_key(db, node_id)})
    except InvalidNodeId:
        return frozenset()


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def federation_url(url: str, *, allow_plain_http: bool) -> str:
    """The address a federation request to ``url`` goes to.

    ``https://`` as it is. ``http://`` as it is only to loopback or with the operator's lab
    switch; to another machine it goes to ``https://`` on the same host and port instead
    (a peer paired before TLS, whose node now serves TLS there; the pin proves it is the
    peer), never in plain text. Anything else is refused."""
    parsed = URL(url)
    if parsed.scheme == "https":
        return url
    if parsed.scheme != "http":
        raise PlainHttpRefused(f"{url}: a peer address starts with https://")
    if allow_plain_http or is_loopback_host(parsed.host):
        return url
    return "https://" + url[len("http://") :]


class NodeKeyPin(aiohttp.Fingerprint):
    """aiohttp's per-request ``ssl=`` value that accepts only the peer's node key.

    aiohttp calls :meth:`check` on the fresh TLS transport before it writes the request.
    Two pins with the same keys are equal, so pooled connections are reused only for
    requests that expect the very same keys."""

    def __init__(self, node_id: str, keys: frozenset[bytes]) -> None:
        # Not super().__init__: that takes a digest of the whole certificate.
        self.node_id = node_id
        self.keys = keys
        self._fingerprint = b""

    def check(self, transport: asyncio.Transport) -> None:
        ssl_object: Any = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        key = certificate_public_key(der) if der else None
        if key is None or key not in self.keys:
            host, port, *_ = transport.get_extra_info("peername") or ("?", 0)
            raise ServerFingerprintMismatch(b"".join(sorted(self.keys)), key or b"", host, port)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeKeyPin) and other.keys == self.keys

    def __hash__(self) -> int:
        return hash(self.keys)


def pin_for(node_id: str, db: sqlite_utils.Database | None = None) -> NodeKeyPin:
    return NodeKeyPin(node_id, keys_for_peer(node_id, db))
