"""A node with members who can sign in, its web pages behind aiohttp's test client, and
helpers that read forms the way a browser does (the CSRF token from the page itself)."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from governance.members import check_roles
from node.home import create_member
from node.node import Node
from node.web.app import create_app
from node.web.auth import hash_password
from tests.conftest import SEED_B, FakeClock, HomeFactory, write_lesson

Client = TestClient  # type: ignore[type-arg]
ClientFactory = Callable[..., Awaitable[Client]]
PASSWORD = "a long enough passphrase"
# name → roles; "admin" (role admin) is made by init.
MEMBERS = {"ana": ("author",), "cora": ("curator",), "sam": ("steward",)}
TABLES = (
    "records", "events", "approvals", "peers", "invites", "tombstones", "revocations",
    "outbox", "rejected_records", "members", "deliveries",
)  # fmt: skip
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def members(node: Node) -> Node:
    """The node with :data:`MEMBERS` added; each of them and admin have :data:`PASSWORD`."""
    for name, roles in MEMBERS.items():
        create_member(
            node.paths, node.db, node.identity, name, check_roles(list(roles)), None, node.now()
        )
    for name in ("admin", *MEMBERS):
        node.db.execute(
            "UPDATE members SET password_hash = ? WHERE name = ?", [password_hash(), name]
        )
    return node


@pytest.fixture
async def client(aiohttp_client: ClientFactory, members: Node) -> Client:
    return await aiohttp_client(create_app(members, background_sync=False))


def counts(node: Node) -> dict[str, int]:
    """Rows of every table a write could change: equal before and after = nothing stored."""
    return {
        table: int(node.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in TABLES
    }


def lesson(node: Node, tmp_path: Path, author: str = "ana", **front: Any) -> str:
    """Add a lesson the way ``rhizome lesson add`` does; its id."""
    fields = {"title": "Buddy pairs at the march", "kind": "checklist", **front}
    body = fields.pop("body", "Write the pairs down.\n")
    path = write_lesson(tmp_path, f"lesson-{counts(node)['records']}.md", fields, body)
    return node.add_lesson_file(path, author=author).id_hex


async def page(client: Client, path: str, status: int = 200) -> str:
    """An HTML page's text, after checking its status and type."""
    response = await client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text[:2000]
    assert response.content_type == "text/html", text[:500]
    return text


async def token(client: Client, path: str = "/") -> str:
    """The CSRF token in a page's forms, as the browser would send it back."""
    found = CSRF_INPUT.search(await page(client, path))
    assert found, f"no CSRF field on {path}"
    return unescape(found.group(1))


async def sign_in(client: Client, name: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
    data = {"csrf_token": await token(client, "/signin"), "name": name, "password": password}
    return await client.post("/signin", data=data, allow_redirects=False)


async def signed_in(client: Client, name: str) -> None:
    response = await sign_in(client, name)
    assert response.status == 303, await response.text()


async def post(
    client: Client,
    path: str,
    data: dict[str, Any] | list[tuple[str, str]] | None = None,
    csrf: bool = True,
    from_page: str = "/",
) -> aiohttp.ClientResponse:
    """Submit a form as a browser does: with the page's CSRF token, without following."""
    fields = list(data.items()) if isinstance(data, dict) else list(data or [])
    if csrf:
        fields.append(("csrf_token", await token(client, from_page)))
    return await client.post(path, data=fields, allow_redirects=False)


def redirected_to(response: aiohttp.ClientResponse) -> str:
    assert response.status == 303, response.status
    return response.headers["Location"]


# ---- a second hub, served for real on loopback (pairing needs one to answer) ---------------


@dataclass
class Served:
    node: Node
    runner: web.AppRunner


@pytest.fixture
def manila_home(make_home: HomeFactory, unused_tcp_port: int) -> Path:
    from crypto.signing import SigningIdentity

    return make_home(
        name="Manila Hub", region="Southeast Asia", identity=SigningIdentity.from_seed(SEED_B),
        port=unused_tcp_port,
    )  # fmt: skip


@pytest.fixture
def manila(manila_home: Path, clock: FakeClock) -> Iterator[Node]:
    other = Node(manila_home, clock=clock)
    yield other
    other.close()


@pytest.fixture
async def manila_served(manila: Node) -> AsyncIterator[Served]:
    runner = web.AppRunner(create_app(manila, background_sync=False))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", manila.config.port).start()
    try:
        yield Served(manila, runner)
    finally:
        await runner.cleanup()
