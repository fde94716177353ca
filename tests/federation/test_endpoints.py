"""The table of federation endpoints: the routes are registered from it, the client calls
by it, and a fetch in flight says when its request has left (no ``sleep(0)`` turns)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from federation import endpoints, wire
from federation.client import PeerClient
from federation.routes import routes
from node.node import Node

ROOT = Path(__file__).resolve().parents[2]


def test_every_route_is_an_endpoint_of_the_table_and_back() -> None:
    registered = {(route.path, route.kwargs["name"]) for route in routes}  # type: ignore[attr-defined]
    table = {(endpoint.path, endpoint.route_name) for endpoint in endpoints.ENDPOINTS}
    assert registered == table
    assert len({endpoint.name for endpoint in endpoints.ENDPOINTS}) == len(endpoints.ENDPOINTS)


def test_no_loop_turns_are_hoped_for_in_our_code() -> None:
    hopes = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("crypto", "federation", "governance", "archive", "node")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "sleep(0)" in line
    ]
    assert hopes == []


@pytest.fixture
def port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_call_says_when_its_request_has_left(node: Node, port: int) -> None:
    """The peer holds its answer back: the caller still learns that the body went out."""
    arrived, release = asyncio.Event(), asyncio.Event()

    async def notify(request: web.Request) -> web.Response:
        await request.read()
        arrived.set()
        await release.wait()
        body = wire.encode(endpoints.NOTIFY.answer, {})
        return web.Response(body=body, content_type="application/msgpack")

    app = web.Application()
    app.router.add_post(endpoints.NOTIFY.path, notify)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            client, sent = PeerClient(node.local_node(), session), asyncio.Event()
            call = asyncio.ensure_future(client.call(
                endpoints.NOTIFY, {}, recipient=node.node_id,
                base_url=f"http://127.0.0.1:{port}", sent=sent,
            ))  # fmt: skip
            await asyncio.wait_for(sent.wait(), timeout=10)
            await asyncio.wait_for(arrived.wait(), timeout=10)
            assert not call.done(), "the answer is still held back"
            release.set()
            assert await asyncio.wait_for(call, timeout=10) == {}
    finally:
        await runner.cleanup()


async def test_a_call_that_fails_before_sending_still_sets_sent(node: Node, port: int) -> None:
    async with aiohttp.ClientSession() as session:
        client, sent = PeerClient(node.local_node(), session, deadline=5), asyncio.Event()
        with pytest.raises(Exception, match="nothing answers"):
            await client.call(
                endpoints.NOTIFY, {}, recipient=node.node_id,
                base_url=f"http://127.0.0.1:{port}", sent=sent,
            )  # fmt: skip
        assert sent.is_set()
