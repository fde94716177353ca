"""The node's web front ends under test: a node with members who can sign in, its app behind
aiohttp's test client, and the helpers both kinds of test use.

``tests/web/pages/`` drives the HTML pages the way a browser does (forms, the CSRF token from
the page itself, redirects); ``tests/web/api/`` drives the JSON API (HTTP Basic or a session,
the one error shape). Both use the same members, the same "nothing stored" counts and the one
:func:`assert_error`.
"""

from __future__ import annotations

import base64
import functools
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from crypto.signing import SigningIdentity
from governance.members import check_roles
from node.actions.members import CreateToken, create_token
from node.home import create_member
from node.node import Node
from node.passwords import hash_password
from node.tls import server_context
from node.web.app import create_app
from node.web.auth import CSRF_HEADER
from tests.conftest import SEED_B, FakeClock, HomeFactory, write_lesson

Client = TestClient  # type: ignore[type-arg]
ClientFactory = Callable[..., Awaitable[Client]]
PASSWORD = "a long enough passphrase"
# name → roles; "admin" (role admin) is made by init. The pages' tests act as ana, cora and
# sam, the API's as amina, chidi, sefu and tariq.
MEMBERS = {
    "ana": ("author",),
    "cora": ("curator",),
    "sam": ("steward",),
    "amina": ("author",),
    "chidi": ("curator",),
    "sefu": ("steward",),
    "tariq": ("author", "curator"),
}
TABLES = (
    "records", "events", "approvals", "peers", "invites", "tombstones", "revocations",
    "outbox", "rejected_records", "members", "deliveries",
)  # fmt: skip
LESSON = {
    "title": "Buddy pairs at the march",
    "kind": "checklist",
    "summary": "Pair up before you leave.",
    "tags": ["safety"],
    "consent": {"basis": "consent", "scope": "federation"},
    "body": "Write the pairs down.\n",
}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@functools.cache
def password_hash() -> str:
    """One argon2id hash of :data:`PASSWORD`, shared by every member (hashing is slow)."""
    return hash_password(PASSWORD)


def set_password(node: Node, name: str) -> None:
    node.db.execute("UPDATE members SET password_hash = ? WHERE name = ?", [password_hash(), name])
    node.db.conn.commit()


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
async def visitor(aiohttp_client: ClientFactory, members: Node) -> Client:
    """A client that has not signed in, on this machine (loopback): it reads nothing but the
    sign-in page, ``/healthz`` and ``/metrics``."""
    return await aiohttp_client(create_app(members, background_sync=False))


@pytest.fixture
async def client(aiohttp_client: ClientFactory, members: Node) -> Client:
    """A client signed in as admin (a session): every page and read answers it; a test that
    acts as someone else signs in as them (which ends the admin session)."""
    signed = await aiohttp_client(create_app(members, background_sync=False))
    await api_session(signed, "admin")
    return signed


def counts(node: Node) -> dict[str, int]:
    """Rows of every table a write could add to or change: equal before and after = nothing
    stored."""
    return {
        table: int(node.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in TABLES
    }


# ---- the one error shape, and a node that keeps serving -----------------------------------


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


# ---- the JSON API ---------------------------------------------------------------------------


def basic(name: str, password: str = PASSWORD) -> dict[str, str]:
    """HTTP Basic credentials, as scripts send them."""
    token = base64.b64encode(f"{name}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


async def json_of(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json", text
    return await response.json()


async def add_lesson(client: Client, name: str = "amina", **changes: Any) -> str:
    """Add a lesson through the API as ``name``; its id."""
    response = await client.post("/api/v1/lessons", json={**LESSON, **changes}, headers=basic(name))
    return str((await json_of(response, 201))["id"])


async def api_session(client: Client, name: str) -> str:
    """Sign ``client`` in through the API as ``name`` (a session cookie); the session's CSRF
    token."""
    response = await client.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    body = await json_of(response)
    assert body["member"] == name
    return str(body["csrf_token"])


def csrf(token: str) -> dict[str, str]:
    return {CSRF_HEADER: token}


# ---- the pages, as a browser uses them ------------------------------------------------------


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
    """Sign ``client`` in on the sign-in page as ``name``."""
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

    @property
    def url(self) -> str:
        return self.node.config.url


def _manila(make_home: HomeFactory, port: int) -> Path:
    return make_home(
        name="Manila Hub", region="Southeast Asia", identity=SigningIdentity.from_seed(SEED_B),
        port=port,
    )  # fmt: skip


@pytest.fixture
def manila_home(make_home: HomeFactory, unused_tcp_port: int) -> Path:
    return _manila(make_home, unused_tcp_port)


@pytest.fixture
def manila(manila_home: Path, clock: FakeClock) -> Iterator[Node]:
    other = Node(manila_home, clock=clock)
    yield other
    other.close()


@pytest.fixture
async def manila_served(manila: Node) -> AsyncIterator[Served]:
    runner = web.AppRunner(create_app(manila, background_sync=False))
    await runner.setup()
    context = server_context(manila.paths.root, manila.identity)  # HTTPS, as serve does
    await web.TCPSite(runner, "127.0.0.1", manila.config.port, ssl_context=context).start()
    try:
        yield Served(manila, runner)
    finally:
        await runner.cleanup()


@pytest.fixture
async def other_hub(make_home: HomeFactory, clock: FakeClock) -> AsyncIterator[Served]:
    """Manila Hub, serving on a free loopback port named in its own config."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # held, so no one else takes the port before we serve
    node = Node(_manila(make_home, int(sock.getsockname()[1])), clock=clock)
    runner = web.AppRunner(create_app(node, background_sync=False))
    await runner.setup()
    context = server_context(node.paths.root, node.identity)  # HTTPS, as serve does
    await web.SockSite(runner, sock, ssl_context=context).start()
    try:
        yield Served(node, runner)
    finally:
        await runner.cleanup()
        node.close()


async def token_client(aiohttp_client: ClientFactory, node: Node, name: str = "admin") -> Client:
    """A client of ``node``'s app that sends a read-only API token of ``name`` with every
    request (as a script does: ``Authorization: Bearer …``)."""
    made = create_token(node, CreateToken(node.member(name), name, "tests"))
    headers = {"Authorization": f"Bearer {made.secret}"}
    return await aiohttp_client(create_app(node, background_sync=False), headers=headers)
