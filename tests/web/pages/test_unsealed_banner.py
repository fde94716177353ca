"""An unsealed hub says so on every page and in /healthz; a sealed one does not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from node.node import Node
from node.web.app import create_app
from tests.conftest import HomeFactory
from tests.web.conftest import Client, page

PASSPHRASE = "harbor lantern quarry thistle velvet anchor"
BANNER = 'id="unsealed-banner"'
ClientFactory = Callable[[web.Application], Awaitable[Any]]


async def test_an_unsealed_hub_shows_the_banner_and_says_so_in_healthz(client: Client) -> None:
    text = await page(client, "/")
    assert BANNER in text and "This hub is not sealed" in text
    health = await (await client.get("/healthz")).json()
    assert health["status"] == "ok" and health["sealed"] is False


async def test_a_sealed_hub_shows_no_banner(
    aiohttp_client: ClientFactory, make_home: HomeFactory
) -> None:
    node = Node(make_home(passphrase=PASSPHRASE), passphrase=lambda: PASSPHRASE)
    try:
        client = await aiohttp_client(create_app(node))
        health = await (await client.get("/healthz")).json()
        assert health["sealed"] is True
        answer = await client.get("/signin")
        text = await answer.text()
        assert answer.status == 200 and "<form" in text and BANNER not in text
    finally:
        node.close()
