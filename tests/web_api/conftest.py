"""A node with members who can sign in, its app behind aiohttp's test client, and helpers that
pin the one error shape and show that a refused request stored nothing."""

from __future__ import annotations

import base64
import functools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from crypto.signing import SigningIdentity
from governance.members import check_roles
from node.home import create_member
from node.node import Node
from node.web.app import create_app
from node.web.auth import CSRF_HEADER, hash_password
from tests.conftest import SEED_B, FakeClock, HomeFactory

Client = TestClient  # type: ignore[type-arg]
ClientFactory = Callable[..., Awaitable[Client]]
PASSWORD = "a long enough passphrase"
# name → roles; "admin" (role admin) is made by init.
MEMBERS = {
    "amina": ("author",),
    "chidi": ("curator",),
    "sefu": ("steward",),
    "tariq": ("author", "curator"),
}
TABLES = (
    "records", "events", "approvals", "peers", "invites", "tombstones", "revocations",
    "outbox", "rejected_records", "members",
)  # fmt: skip
LESSON = {
    "title": "Buddy pairs at the march",
    "kind": "checklist",
    "summary": "Pair up before you leave.",
    "tags": ["safety"],
    "consent": {"basis": "consent", "scope": "federation"},
    "body": "Write the pairs down.\n",
}


@functools.cache
def password_hash() -> str:
    """One argon2id hash of :data:`PASSWORD`, shared by every member (hashing is slow)."""
    return hash_password(PASSWORD)


def set_password(node: Node, name: str) -> None:
    node.db.execute("UPDATE members SET password_hash = ? WHERE name = ?", [password_hash(), name])
    node.db.conn.commit()


def basic(name: str, password: str = PASSWORD) -> dict[str, str]:
    """HTTP Basic credentials, as scripts send them."""
    token = base64.b64encode(f"{name}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def members(node: Node) -> Node:
    """The node with :data:`MEMBERS` added, every one (and admin) with :data:`PASSWORD`."""
    for name, roles in MEMBERS.items():
        roles = check_roles(list(roles))  # in the table's order, as the CLI stores them
        create_member(node.paths, node.db, node.identity, name, roles, None, node.now())
    for name in ("admin", *MEMBERS):
        set_password(node, name)
    return node


@pytest.fixture
async def client(aiohttp_client: ClientFactory, members: Node) -> Client:
    return await aiohttp_client(create_app(members, background_sync=False))


def counts(node: Node) -> dict[str, int]:
    """Rows of every table a write could add to or change."""
    return {
        table: int(node.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in TABLES
    }


async def assert_error(response: aiohttp.ClientResponse, status: int, code: str) -> str:
    """The one error shape, exactly: {"error": {"status", "code", "message"}}; the message."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json", text
    body = await response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"status", "code", "message"}, body
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and message and "Traceback" not in message
    return str(message)


async def assert_healthy(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def json_of(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json", text
    return await response.json()


async def add_lesson(client: Client, name: str = "amina", **changes: Any) -> str:
    """Add a lesson through the API as ``name``; its id."""
    response = await client.post("/api/v1/lessons", json={**LESSON, **changes}, headers=basic(name))
    return str((await json_of(response, 201))["id"])


async def signed_in(client: Client, name: str) -> str:
    """Sign ``client`` in as ``name`` (a session cookie); the session's CSRF token."""
    response = await client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    body = await json_of(response)
    assert body["member"] == name
    return str(body["csrf_token"])


def csrf(token: str) -> dict[str, str]:
    return {CSRF_HEADER: token}


# ---- a second node, served for real on loopback (pairing needs one to answer) -------------


@dataclass
class Served:
    node: Node
    runner: web.AppRunner

    @property
    def url(self) -> str:
        return self.node.config.url


@pytest.fixture
async def other_hub(make_home: HomeFactory, clock: FakeClock) -> AsyncIterator[Served]:
    """Manila Hub, serving on a free loopback port named in its own config."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # held, so no one else takes the port before we serve
    port = int(sock.getsockname()[1])
    home: Path = make_home(
        name="Manila Hub", region="Southeast Asia", identity=SigningIdentity.from_seed(SEED_B),
        port=port,
    )  # fmt: skip
    node = Node(home, clock=clock)
    runner = web.AppRunner(create_app(node, background_sync=False))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield Served(node, runner)
    finally:
        await runner.cleanup()
        node.close()
