"""The read API answers only this machine unless the operator opens it."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import Mock

import pytest
from aiohttp.test_utils import make_mocked_request

from crypto.errors import RhizomeError
from node.node import Node
from node.web.api import NODE, readable_node
from node.web.app import create_app


def request_from(node: Node, address: str):  # type: ignore[no-untyped-def]
    """A request as it arrives from ``address`` (no traffic: the peer address is all we set)."""
    app = create_app(node, background_sync=False)
    transport = Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (address, 40000) if name == "peername" else default
    )
    return make_mocked_request("GET", "/api/v1/lessons", app=app, transport=transport)


def test_this_machine_may_read(node: Node) -> None:
    assert readable_node(request_from(node, "127.0.0.1")) is node
    assert readable_node(request_from(node, "::1")) is node


@pytest.mark.parametrize("address", ["192.0.2.10", "2001:db8::1", "not-an-address"])
def test_another_machine_is_refused_by_default(node: Node, address: str) -> None:
    with pytest.raises(RhizomeError) as refused:
        readable_node(request_from(node, address))
    assert refused.value.http_status == 403
    assert "public_read" in str(refused.value)


def test_an_operator_can_open_reading(home: Path) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text().replace("public_read = false", "public_read = true"))
    opened = Node(home)
    try:
        request = request_from(opened, "192.0.2.10")
        assert request.app[NODE].config.public_read is True
        assert readable_node(request) is opened
    finally:
        opened.close()
