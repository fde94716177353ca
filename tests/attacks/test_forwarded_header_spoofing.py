"""Forwarded-header spoofing: a client writes its own X-Forwarded-For / X-Forwarded-Proto.

The attacker reaches the node directly (no proxy in between) and sends headers a reverse
proxy would send: a new made-up address on every sign-in guess (to escape the per-address
delays), ``127.0.0.1`` (to look local), ``https`` (to look secure).

What must hold: without ``[server] trusted_proxies`` naming the sender, the headers change
nothing: the guesses all count against the sender's real address and are held back after
the free few (429), a fake loopback address reads nothing (401), and the session cookie's
``Secure`` flag follows the real scheme. From a listed proxy the headers are honoured: each
forwarded client is counted on its own, and ``https`` marks the cookie Secure.
"""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from node.actions.members import SetPassword, set_password
from node.node import Node
from node.web.app import create_app
from node.web.errors import Handler
from node.web.sign_in_guard import FREE_FAILURES

PASSWORD = "a long enough passphrase"
SENDER = "192.0.2.10"  # the attacker's (or the proxy's) real address


@web.middleware
async def from_sender(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request arrives from SENDER (the test client itself is on loopback)."""
    return await handler(request.clone(remote=SENDER))


async def client_for(aiohttp_client, node: Node, trusted: tuple[str, ...]) -> TestClient:  # type: ignore[no-untyped-def,type-arg]
    node.config = dataclasses.replace(node.config, trusted_proxies=trusted)
    set_password(node, SetPassword(node.member("admin"), "admin", PASSWORD))
    app = create_app(node, background_sync=False)
    app.middlewares.insert(0, from_sender)
    return await aiohttp_client(app)  # type: ignore[no-any-return]


async def guess(client: TestClient, name: str, forwarded_for: str) -> int:  # type: ignore[type-arg]
    answer = await client.post(
        "/api/v1/session", json={"name": name, "password": "wrong guess!"},
        headers={"X-Forwarded-For": forwarded_for},
    )  # fmt: skip
    return answer.status


async def test_made_up_addresses_do_not_escape_the_delays(aiohttp_client, node: Node) -> None:  # type: ignore[no-untyped-def]
    client = await client_for(aiohttp_client, node, trusted=())
    tries = range(FREE_FAILURES + 2)
    statuses = [await guess(client, f"name{n}", f"198.51.100.{n}") for n in tries]
    assert statuses[: FREE_FAILURES + 1] == [401] * (FREE_FAILURES + 1)
    assert statuses[-1] == 429  # every guess counted against SENDER


async def test_a_fake_loopback_address_reads_nothing(aiohttp_client, node: Node) -> None:  # type: ignore[no-untyped-def]
    client = await client_for(aiohttp_client, node, trusted=())
    for path in ("/api/v1/lessons", "/api/v1/members"):
        answer = await client.get(path, headers={"X-Forwarded-For": "127.0.0.1"})
        assert answer.status == 401
    page = await client.get("/", headers={"X-Forwarded-For": "::1"}, allow_redirects=False)
    assert page.status == 303 and page.headers["Location"].startswith("/signin")


@pytest.mark.parametrize(("trusted", "secure"), [((), False), ((SENDER,), True)])
async def test_the_cookie_is_secure_only_when_https_is_true(  # type: ignore[no-untyped-def]
    aiohttp_client, node: Node, trusted: tuple[str, ...], secure: bool
) -> None:
    client = await client_for(aiohttp_client, node, trusted)
    answer = await client.post(
        "/api/v1/session", json={"name": "admin", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )  # fmt: skip
    assert answer.status == 200
    assert bool(answer.cookies["rhizome_session"]["secure"]) is secure


async def test_a_trusted_proxy_s_clients_are_counted_apart(aiohttp_client, node: Node) -> None:  # type: ignore[no-untyped-def]
    client = await client_for(aiohttp_client, node, trusted=("192.0.2.0/24",))
    for n in range(FREE_FAILURES + 2):  # different clients behind the proxy: none held back
        assert await guess(client, f"name{n}", f"198.51.100.{n}") == 401
    for n in range(FREE_FAILURES + 1):  # one client behind it, many names: held back
        assert await guess(client, f"other{n}", "198.51.100.200") == 401
    assert await guess(client, "last", "198.51.100.200") == 429
