"""DNS rebinding: a web page the operator visits points its own domain at 127.0.0.1.

The attacker: a page at ``http://evil.example:PORT/`` whose name, once loaded, resolves to
the operator's loopback. The browser then sends the page's requests to the node from
127.0.0.1 with ``Host: evil.example:PORT``, and lets the page read the answers (same site,
to the browser). Before the fix that read every lesson, local and high-sensitivity ones
included, and the operator's data.

What must hold: a request whose ``Host`` names anything but the node's own names (its URL,
its bound and arrival address, localhost, 127.0.0.1, [::1], ``[server] allowed_hosts``) gets
421 in the one error shape (a bare page for a browser) on every route, web pages, the JSON
API, federation and ``/healthz``; nothing of the node is in the answer; a missing or broken
``Host`` gets 400; the node's own names keep working, and the node keeps serving.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from node.actions.members import CreateToken, create_token
from node.node import Node
from node.web.app import create_app
from tests.conftest import HomeFactory
from tests.integration.conftest import Cluster, RunningNode, bound_socket
from tests.tls_helpers import any_node_tls

SECRET_TITLE = "Safe houses near the river"
ROUTES = (
    ("GET", "/api/v1/lessons"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/events"),
    ("GET", "/"),
    ("GET", "/lessons"),
    ("GET", "/healthz"),
    ("POST", "/federation/v1/reconcile"),
    ("POST", "/api/v1/session"),
)


async def ask(
    session: aiohttp.ClientSession,
    node: RunningNode,
    method: str,
    path: str,
    host: str,
    accept: str = "application/json",
    token: str | None = None,
) -> tuple[int, str, str]:
    headers = {"Host": host, "Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with session.request(method, node.url + path, headers=headers) as response:
        return response.status, response.content_type, await response.text()


def assert_refused(status: int, content_type: str, text: str, expected: int = 421) -> None:
    assert status == expected, text[:500]
    assert content_type == "application/json", text[:500]
    error = json.loads(text)["error"]
    assert set(error) == {"status", "code", "message"}
    assert error["status"] == expected
    assert error["code"] == ("misdirected_request" if expected == 421 else "bad_request")
    assert SECRET_TITLE not in text


@pytest.fixture
async def hub(cluster: Cluster) -> RunningNode:
    hub = await cluster.start("Hub A")
    hub.add(SECRET_TITLE, "Keep this here.\n", scope="local", sensitivity="high")
    return hub


async def test_a_foreign_host_reads_nothing_on_any_route(
    cluster: Cluster, hub: RunningNode
) -> None:
    before = hub.counts()
    foreign = (f"evil.example:{hub.port}", "evil.example", "localhost.evil.example", "127.0.0.2")
    for host in foreign:
        for method, path in ROUTES:
            status, content_type, text = await ask(cluster.session, hub, method, path, host)
            assert_refused(status, content_type, text)
            assert "DNS rebinding" in json.loads(text)["error"]["message"]
    assert hub.counts() == before


async def test_a_browser_gets_a_bare_page_that_names_nothing_of_the_node(
    cluster: Cluster, hub: RunningNode
) -> None:
    status, content_type, text = await ask(
        cluster.session, hub, "GET", "/lessons", f"evil.example:{hub.port}", accept="text/html"
    )
    assert (status, content_type) == (421, "text/html")
    assert "does not answer to the name &#x27;evil.example&#x27;" in text
    for secret in (SECRET_TITLE, hub.name, "csrf_token", "admin"):
        assert secret not in text


async def test_the_nodes_own_names_are_answered(cluster: Cluster, hub: RunningNode) -> None:
    own = (f"127.0.0.1:{hub.port}", "127.0.0.1", f"localhost:{hub.port}", "LOCALHOST.", "[::1]")
    admin = hub.node.member("admin")
    token = create_token(hub.node, CreateToken(admin, "admin", "reader")).secret
    for host in own:
        status, _, text = await ask(
            cluster.session, hub, "GET", "/api/v1/lessons", host, token=token
        )
        assert status == 200, (host, text[:300])
        assert SECRET_TITLE in text


async def test_a_missing_or_broken_host_is_400(cluster: Cluster, hub: RunningNode) -> None:
    for raw in (
        b"GET /api/v1/lessons HTTP/1.0\r\n\r\n",
        b"GET /api/v1/lessons HTTP/1.1\r\nHost: evil.example:80:80\r\nConnection: close\r\n\r\n",
        b"GET /api/v1/lessons HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n",
        b"GET /api/v1/lessons HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", hub.port, ssl=any_node_tls())
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"400", answer[:300]
        assert SECRET_TITLE.encode() not in answer
        assert json.loads(body)["error"]["code"] == "bad_request", body
    status, _, _ = await ask(cluster.session, hub, "GET", "/healthz", f"127.0.0.1:{hub.port}")
    assert status == 200


async def test_names_the_operator_allows_are_answered(
    make_home: HomeFactory, unused_tcp_port: int
) -> None:
    home = make_home(name="Proxied Hub", port=unused_tcp_port)
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("allowed_hosts = []", 'allowed_hosts = ["hub.example.org"]'),
        encoding="utf-8",
    )
    node = Node(home)
    assert node.config.allowed_hosts == ("hub.example.org",)
    runner = web.AppRunner(create_app(node, background_sync=False))
    await runner.setup()
    sock = bound_socket()
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        async with aiohttp.ClientSession() as session:
            for host, expected in (("hub.example.org", 200), ("other.example.org", 421)):
                async with session.get(
                    f"http://127.0.0.1:{port}/healthz", headers={"Host": host}
                ) as response:
                    assert response.status == expected, host
    finally:
        await runner.cleanup()
        node.close()


def test_a_port_in_allowed_hosts_is_a_config_error(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    from node.config import load_config
    from node.errors import ConfigError

    home = make_home(name="Typo Hub")
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("allowed_hosts = []", 'allowed_hosts = ["hub.example.org:443"]'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="without a port"):
        load_config(config)
