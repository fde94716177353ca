"""One answer to "who is the client, and did it use HTTPS?" (node.web.client): the connection
says it, unless the connection is a proxy listed in ``[server] trusted_proxies``."""

from __future__ import annotations

import dataclasses
from unittest.mock import Mock

import pytest
from aiohttp.test_utils import make_mocked_request

from node.node import Node
from node.web.app import create_app
from node.web.client import Client, client_of


def request_from(
    node: Node, address: str, trusted: tuple[str, ...] = (), https: bool = False, **headers: str
):  # type: ignore[no-untyped-def]
    """A request as it arrives from ``address`` with ``headers`` (no traffic)."""
    node.config = dataclasses.replace(node.config, trusted_proxies=trusted)
    app = create_app(node, background_sync=False)
    transport = Mock()
    extra = {"peername": (address, 40000), "sslcontext": object() if https else None}
    transport.get_extra_info.side_effect = lambda name, default=None: extra.get(name, default)
    wire = {key.replace("_", "-"): value for key, value in headers.items()}
    return make_mocked_request("GET", "/", headers=wire, app=app, transport=transport)


SPOOF = {"X_Forwarded_For": "127.0.0.1", "X_Forwarded_Proto": "https"}


@pytest.mark.parametrize("address", ["192.0.2.10", "2001:db8::1", "127.0.0.1"])
def test_without_trusted_proxies_the_headers_are_ignored(node: Node, address: str) -> None:
    assert client_of(request_from(node, address, **SPOOF)) == Client(address, https=False)


def test_a_sender_not_listed_is_not_believed(node: Node) -> None:
    request = request_from(node, "192.0.2.10", trusted=("10.0.0.0/8",), **SPOOF)
    assert client_of(request) == Client("192.0.2.10", https=False)


def test_a_trusted_proxy_names_the_client_and_its_scheme(node: Node) -> None:
    request = request_from(
        node, "127.0.0.1", trusted=("127.0.0.1",),
        X_Forwarded_For="203.0.113.7", X_Forwarded_Proto="https",
    )  # fmt: skip
    assert client_of(request) == Client("203.0.113.7", https=True)


def test_what_the_client_wrote_left_of_the_proxies_does_not_count(node: Node) -> None:
    """The client may send its own X-Forwarded-For; the proxy appends the real address."""
    request = request_from(
        node, "10.0.0.2", trusted=("10.0.0.0/8",),
        X_Forwarded_For="127.0.0.1, 198.51.100.4, 10.0.0.1",
    )  # fmt: skip
    assert client_of(request).address == "198.51.100.4"


def test_a_direct_tls_connection_is_https(node: Node) -> None:
    assert client_of(request_from(node, "192.0.2.10", https=True)).https
    proxied = request_from(node, "127.0.0.1", trusted=("127.0.0.1",), X_Forwarded_Proto="http")
    assert not client_of(proxied).https


def test_garbage_in_the_header_falls_back_to_the_proxy(node: Node) -> None:
    request = request_from(node, "127.0.0.1", trusted=("127.0.0.1",), X_Forwarded_For="<script>")
    assert client_of(request).address == "127.0.0.1"
