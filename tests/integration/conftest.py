"""Several real nodes on 127.0.0.1: real homes, real aiohttp servers, the real pairing path.

``cluster.start("Hub A")`` creates a home in the test's temp dir, opens a :class:`Node` on it
and serves ``create_app(node)`` on a free loopback port (the home's config URL names that
port). ``cluster.pair`` goes through ``create_invite`` and ``join_with_invite`` over HTTP, and
``cluster.sync`` through ``sync_with_peer``: none of our own layers is replaced. Everything a
test starts is shut down when it ends, servers first (their cleanup contexts run), then nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from archive.record import Consent, Lesson
from archive.signed_record import SignedRecord
from federation.client import PeerClient
from federation.invites import DEFAULT_TTL, create_invite, encode_invite
from federation.local import Clock
from federation.loop_clock import LoopClock
from federation.pairing import join_with_invite
from federation.peers import Peer, get_peer
from federation.sync import SyncReport, sync_with_peer
from node.node import Node
from node.tls import certificate_path, server_context
from node.web.app import create_app
from tests.conftest import HomeFactory

LOOPBACK = "127.0.0.1"


def bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, held so that no one else takes the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


def client_context() -> ssl.SSLContext:
    """Trusts no one until a node's own certificate is added (no system authorities)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # nodes are reached at 127.0.0.1; the anchor is their cert
    # Their web certificate is issued by the node key, not by itself: trusted as it is.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (database, -wal, -shm, …)."""
    return [
        path for path in sorted(root.rglob("*")) if path.is_file() and needle in path.read_bytes()
    ]


@dataclass
class RunningNode:
    """One node: its home, its open :class:`Node` (the server's database) and its server."""

    home: Path
    node: Node
    runner: web.AppRunner
    port: int
    scheme: str = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.port}"

    @property
    def node_id(self) -> str:
        return self.node.node_id

    @property
    def name(self) -> str:
        return self.node.config.name

    @property
    def app(self) -> web.Application:
        return self.runner.app

    def peer(self, other: RunningNode) -> Peer | None:
        """How this node sees ``other`` in its peer directory."""
        return get_peer(self.node.db, other.node_id)

    def count(self, table: str, where: str = "", params: Iterable[object] = ()) -> int:
        sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
        return int(self.node.db.execute(sql, list(params)).fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Rows of every table a federation request could add to."""
        tables = ("records", "records_fts", "peers", "strikes", "deliveries", "events")
        counts = {table: self.count(table) for table in tables}
        counts["used_invites"] = self.count("invites", "used_at IS NOT NULL")
        return counts

    def has(self, record: SignedRecord) -> bool:
        return self.count("records", "id = ?", [record.id_hex]) == 1

    def row(self, record: SignedRecord) -> dict[str, Any]:
        cursor = self.node.db.execute("SELECT * FROM records WHERE id = ?", [record.id_hex])
        names = [column[0] for column in cursor.description]
        found = cursor.fetchone()
        assert found is not None, f"{self.name} does not hold {record.id_hex[:12]}"
        return dict(zip(names, found, strict=True))

    def lesson(
        self,
        title: str = "A shared checklist",
        body: str = "Bring water.\n",
        *,
        scope: str = "federation",
        peers: Iterable[str] = (),
        reshare: bool = False,
        sensitivity: str = "low",
        basis: str = "consent",
    ) -> Lesson:
        """A lesson of this node's origin with the given consent (not stored)."""
        return Lesson(
            kind="checklist",
            title=title,
            body=body,
            language="en",
            region=self.node.config.region,
            created=int(self.node.clock()),
            origin=self.node.public_key,
            author="admin",
            sensitivity=sensitivity,
            consent=Consent(basis=basis, scope=scope, peers=tuple(peers), reshare=reshare),
        )

    def add(
        self, title: str = "A shared checklist", body: str = "Bring water.\n", **consent: Any
    ) -> SignedRecord:
        """Sign and store a lesson with the node's own writer (the server's database)."""
        return self.node.writer.add_lesson(self.lesson(title, body, **consent))

    def add_many(
        self, count: int, prefix: str = "Lesson", padding: int = 0, **consent: Any
    ) -> list[SignedRecord]:
        """``count`` lessons in one transaction, each body with ``padding`` bytes of text."""
        filler = ("Practice the drill again. " * (padding // 26 + 1))[:padding]
        lessons = [
            (f"{prefix} {n}", self.lesson(f"{prefix} {n}", f"Step {n}.\n{filler}", **consent))
            for n in range(count)
        ]
        outcomes = self.node.writer.add_lessons(lessons)
        records = [outcome for _, outcome in outcomes if isinstance(outcome, SignedRecord)]
        assert len(records) == count, outcomes
        return records


@dataclass
class Cluster:
    """The running nodes of one test, and one HTTP session to reach them."""

    make_home: HomeFactory
    session: aiohttp.ClientSession
    # What the session trusts: each node's own certificate, added as the node starts.
    trust: ssl.SSLContext = field(default_factory=lambda: client_context())
    nodes: list[RunningNode] = field(default_factory=list)

    async def start(
        self,
        name: str,
        region: str = "East Africa",
        *,
        background_sync: bool = False,
        clock: Clock = time.time,
        quotas: dict[str, int] | None = None,
        loop_clock: LoopClock | None = None,
        tls: bool = True,
        allow_plain_http: bool = False,
    ) -> RunningNode:
        """A node serving HTTPS with its own certificate, as ``rhizome serve`` does;
        ``tls=False`` for the few tests about plain HTTP (its URL is then http://)."""
        sock = bound_socket()
        port = int(sock.getsockname()[1])
        home = self.make_home(name=name, region=region, port=port)
        if quotas:  # as an operator would edit [quotas] in config.toml
            config = home / "config.toml"
            text = config.read_text(encoding="utf-8")
            for key, value in quotas.items():
                text, found = re.subn(rf"(?m)^{key} = \d+$", f"{key} = {value}", text)
                assert found == 1, key
            config.write_text(text, encoding="utf-8")
        scheme = "https" if tls else "http"
        config = home / "config.toml"
        text = config.read_text(encoding="utf-8")
        if not tls:
            text = text.replace('url = "https://', 'url = "http://')
        if allow_plain_http:  # as an operator would, for a lab
            text = text.replace("allow_plain_http = false", "allow_plain_http = true")
        config.write_text(text, encoding="utf-8")
        node = Node(home, clock=clock)
        assert node.config.url == f"{scheme}://{LOOPBACK}:{port}"
        app = create_app(node, background_sync=background_sync, loop_clock=loop_clock)
        runner = web.AppRunner(app)
        await runner.setup()
        context = server_context(home, node.identity) if tls else None
        if tls:
            self.trust.load_verify_locations(cafile=certificate_path(home))
        await web.SockSite(runner, sock, ssl_context=context).start()
        running = RunningNode(home, node, runner, port, scheme)
        self.nodes.append(running)
        return running

    async def stop(self, running: RunningNode) -> None:
        """Shut the server down (its cleanup contexts run), then close the node."""
        if running in self.nodes:
            self.nodes.remove(running)
            try:
                await running.runner.cleanup()
            finally:
                running.node.close()

    def client(self, running: RunningNode) -> PeerClient:
        """A federation client acting for ``running`` (its key, database and clock)."""
        return PeerClient(running.node.local_node(), self.session)

    def invite(self, inviter: RunningNode, ttl: int = DEFAULT_TTL, url: str | None = None) -> str:
        node = inviter.node
        code = create_invite(node.db, node.node_id, url or inviter.url, int(node.clock()), ttl)
        return encode_invite(code)

    async def join(self, joiner: RunningNode, code: str) -> Peer:
        return await join_with_invite(self.client(joiner), code)

    async def pair(self, inviter: RunningNode, joiner: RunningNode) -> Peer:
        """Pair through the real path: the inviter's code, redeemed by the joiner over HTTP."""
        return await self.join(joiner, self.invite(inviter))

    async def sync(self, initiator: RunningNode, other: RunningNode) -> SyncReport:
        """One exchange, started by ``initiator`` with its peer ``other``."""
        peer = initiator.peer(other)
        assert peer is not None, f"{initiator.name} does not know {other.name}"
        return await sync_with_peer(self.client(initiator), peer)

    async def healthy(self, running: RunningNode) -> bool:
        async with self.session.get(running.url + "/healthz") as response:
            return response.status == 200 and (await response.json())["status"] == "ok"

    async def close(self) -> None:
        # The session first, then a moment for the servers to see its connections close: a
        # server shut down while it still drains a refused body waits out aiohttp's
        # lingering time (10 s) for a client that is gone.
        await self.session.close()
        await asyncio.sleep(0.01)
        for running in list(reversed(self.nodes)):
            await self.stop(running)


@pytest.fixture
async def cluster(make_home: HomeFactory) -> AsyncIterator[Cluster]:
    trust = client_context()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust))
    made = Cluster(make_home, session, trust)
    try:
        yield made
    finally:
        await made.close()


@dataclass
class SlowLink:
    """A TCP relay on loopback that passes bytes on in small pieces with a pause between
    them, as a slow network does: bodies reach the other side in many reads."""

    target_port: int
    scheme: str = "https"  # the target's: TLS passes through the relay untouched
    piece: int = 8 * 1024
    pause: float = 0.002
    server: asyncio.Server | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.scheme}://{LOOPBACK}:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> SlowLink:
        self.server = await asyncio.start_server(self._relay, LOOPBACK, 0)
        return self

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(LOOPBACK, self.target_port)
        pumps = [
            asyncio.create_task(self._pump(reader, upstream_writer)),
            asyncio.create_task(self._pump(upstream_reader, writer)),
        ]
        self.tasks.update(pumps)
        await asyncio.gather(*pumps, return_exceptions=True)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(self.piece):
                sink.write(data)
                await sink.drain()
                await asyncio.sleep(self.pause)
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def slow_link() -> AsyncIterator[Any]:
    """``await slow_link(port)`` opens a :class:`SlowLink` to ``port`` (an https node unless
    ``scheme="http"``); closed at the end."""
    opened: list[SlowLink] = []

    async def open_link(target_port: int, scheme: str = "https") -> SlowLink:
        link = await SlowLink(target_port, scheme).start()
        opened.append(link)
        return link

    try:
        yield open_link
    finally:
        for link in opened:
            await link.close()
