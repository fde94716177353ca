"""Loopback trust: a local process, or a reverse proxy on the same machine, reads the node.

The attacker: another user's process on the hub machine (or a browser exploit, or any
visitor of a reverse proxy that forwards to 127.0.0.1) sends requests that arrive from
loopback. Before the fix the node trusted loopback: the read API, the operator's data
(members, peers, logs) and every page answered without sign-in.

What must hold: from loopback, directly and through a proxy that adds ``X-Forwarded-For``,
every page redirects to the sign-in form and every API read answers 401 in the one error
shape; no lesson title, member name or peer name is in any answer; after signing in (through
the same proxy) the same reads work, so the refusal is about sign-in and nothing else.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from node.actions.members import SetPassword, set_password
from node.node import Node
from node.web.app import create_app
from tests.conftest import write_lesson
from tests.integration.conftest import bound_socket

SECRET_TITLE = "Safe houses near the river"
PASSWORD = "a long enough passphrase"
READS = (
    "/api/v1/lessons", "/api/v1/members", "/api/v1/peers", "/api/v1/events",
    "/api/v1/decisions", "/api/v1/policy", "/api/v1/quarantine",
)  # fmt: skip
PAGES = ("/", "/search?q=river", "/peers", "/events", "/decisions", "/policy", "/status",
         "/approvals", "/quarantine")  # fmt: skip


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


def proxy_app(upstream: str) -> web.Application:
    """A reverse proxy as operators put in front (it forwards to loopback, names the client)."""

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        headers["X-Forwarded-For"] = "203.0.113.9"
        headers["X-Forwarded-Proto"] = "https"
        async with aiohttp.ClientSession() as session, session.request(
            request.method, upstream + request.path_qs, headers=headers,
            data=await request.read(), allow_redirects=False,
        ) as answer:  # fmt: skip
            passed = {k: v for k, v in answer.headers.items()
                      if k.lower() in ("content-type", "location", "set-cookie")}  # fmt: skip
            return web.Response(status=answer.status, body=await answer.read(), headers=passed)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@pytest.fixture
async def hub(node: Node, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The node served on loopback, and a proxy in front of it: (node url, proxy url)."""
    front = {"title": SECRET_TITLE, "kind": "story"}
    node.add_lesson_file(write_lesson(tmp_path, "secret.md", front))
    set_password(node, SetPassword(node.member("admin"), "admin", PASSWORD))
    node_sock, proxy_sock = bound_socket(), bound_socket()
    node_url = f"http://127.0.0.1:{node_sock.getsockname()[1]}"
    proxy_url = f"http://127.0.0.1:{proxy_sock.getsockname()[1]}"
    runners = [await serve(create_app(node, background_sync=False), node_sock),
               await serve(proxy_app(node_url), proxy_sock)]  # fmt: skip
    try:
        yield node_url, proxy_url
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.mark.parametrize("through", ["direct", "proxy"])
async def test_loopback_reads_nothing_without_signing_in(
    hub: tuple[str, str], through: str
) -> None:
    base = hub[0] if through == "direct" else hub[1]
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies of an IP address, as browsers do
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        for path in READS:
            async with session.get(base + path) as answer:
                body = await answer.text()
                assert answer.status == 401, (path, body)
                assert (await answer.json())["error"]["code"] == "unauthenticated"
                assert SECRET_TITLE not in body and "admin" not in body
        for path in PAGES:
            async with session.get(base + path, allow_redirects=False) as answer:
                assert answer.status == 303, path
                assert answer.headers["Location"].startswith("/signin?next=")
                assert SECRET_TITLE not in await answer.text()
        # signed in through the same way, the same reads answer
        signing_in = {"name": "admin", "password": PASSWORD}
        async with session.post(base + "/api/v1/session", json=signing_in) as answer:
            assert answer.status == 200
        async with session.get(base + "/api/v1/lessons") as answer:
            assert answer.status == 200 and SECRET_TITLE in await answer.text()
