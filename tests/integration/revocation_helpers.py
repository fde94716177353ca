"""Helpers for the revocation tests: serving a home again, stale copies, waiting, the CLI.

The :class:`~tests.integration.conftest.Cluster` starts nodes on fresh homes. Revocation
needs a little more: a node that goes offline and comes back on the same port with the same
home, and a copy of a node's home taken before a revocation and brought back later on a port
of its own. Nodes started here join ``cluster.nodes``, so the cluster shuts them down too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import shutil
import socket
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from archive.tombstones import tombstone_of
from archive.verify import verify_archive
from crypto.http_signatures import sign_request
from federation.background import OUTBOX_POLL_SECONDS
from federation.local import Clock
from federation.propagation import receipt_status
from federation.revocation import Actor
from governance.decision_log import decision_chain_problems
from node.config import load_config, render_config
from node.home import CONFIG_FILE, DATABASE_FILE
from node.node import Node
from node.tls import certificate_path, server_context
from node.web.app import SYNC, create_app
from tests.conftest import ManualLoopClock
from tests.integration.conftest import LOOPBACK, Cluster, RunningNode

RHIZOME = Path(sys.executable).parent / "rhizome"
MSGPACK = "application/msgpack"
T = TypeVar("T")


def canary() -> str:
    """A word found nowhere else: one token for the search index, easy to look for in bytes."""
    return "zqcanary" + secrets.token_hex(12)


class ShiftedClock:
    """The real time plus an offset a test moves forward. Nodes that share one keep agreeing
    on the time (federation requests are signed with it and checked against it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def port_socket(port: int) -> socket.socket:
    """A socket bound to ``port`` on loopback (again: the node that had it has stopped)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    return sock


async def serve(
    cluster: Cluster,
    home: Path,
    sock: socket.socket,
    *,
    background_sync: bool = True,
    clock: Clock = time.time,
) -> RunningNode:
    """Open ``home`` and serve it on ``sock``, as ``rhizome serve`` does; the cluster stops it."""
    node = Node(home, clock=clock)
    port = int(sock.getsockname()[1])
    scheme = "https" if node.config.url.startswith("https://") else "http"
    assert node.config.url == f"{scheme}://{LOOPBACK}:{port}", node.config.url
    try:
        runner = web.AppRunner(create_app(node, background_sync=background_sync))
        await runner.setup()
        context = server_context(home, node.identity) if scheme == "https" else None
        if context is not None:
            cluster.trust.load_verify_locations(cafile=certificate_path(home))
        await web.SockSite(runner, sock, ssl_context=context).start()
    except BaseException:
        node.close()
        raise
    running = RunningNode(home, node, runner, port, scheme)
    cluster.nodes.append(running)
    return running


async def restart(
    cluster: Cluster, home: Path, port: int, *, clock: Clock = time.time
) -> RunningNode:
    """Bring a stopped node back: the same home, the same port, background sync on."""
    return await serve(cluster, home, port_socket(port), clock=clock)


def copy_home(source: RunningNode, destination: Path, port: int) -> None:
    """A copy of ``source``'s home as it is now (a backup), to be served on ``port``.

    Every file is copied but the database, which is copied with SQLite's backup API from a
    checkpointed database (a consistent snapshot, even while the node serves). The copy's
    config names ``port``.
    """
    destination.mkdir(mode=0o700)
    for path in source.home.iterdir():
        if path.name.startswith(DATABASE_FILE):
            continue
        if path.is_dir():
            shutil.copytree(path, destination / path.name)
        else:
            shutil.copy2(path, destination / path.name)
    source.node.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with (
        closing(sqlite3.connect(source.home / DATABASE_FILE)) as live,
        closing(sqlite3.connect(destination / DATABASE_FILE)) as copy,
    ):
        live.backup(copy)
    config_path = destination / CONFIG_FILE
    config = dataclasses.replace(
        load_config(config_path), url=f"https://{LOOPBACK}:{port}", port=port
    )
    config_path.write_text(render_config(config), encoding="utf-8")


def dead_loops(running: RunningNode) -> list[str]:
    """Background loops of the node's sync service that ended with an error."""
    return [
        repr(task.exception())
        for task in running.app[SYNC]._tasks
        if task.done() and not task.cancelled() and task.exception() is not None
    ]


def admin_actor(node: Node) -> Actor:
    """The operator member ``admin`` acting, with their key and certificate."""
    member = node.member("admin")
    return Actor(member.name, node.member_identity("admin"), member.certificate)


def files_with(home: Path, needle: str) -> list[str]:
    """Every file under ``home`` (database, -wal, -shm, keys, everything) holding ``needle``,
    read as bytes; names relative to the home."""
    found = []
    data = needle.encode()
    for path in sorted(home.rglob("*")):
        if path.is_file() and data in path.read_bytes():
            found.append(str(path.relative_to(home)))
    return found


def statuses(running: RunningNode, record_id: str) -> dict[str, str]:
    """Holder node id -> "purged" or "pending", as the origin sees it (nothing before the
    origin revoked it)."""
    if tombstone_of(running.node.db, record_id) is None:
        return {}
    _, holders = receipt_status(running.node.db, record_id)
    return {holder.node: holder.status for holder in holders}


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    what: str,
    within: float = 5.0,
    pause: float = 0.05,
    loop_clock: ManualLoopClock | None = None,
) -> T:
    """Poll ``check`` until it returns something true; fail with ``what`` after ``within`` s.

    With ``loop_clock`` (the nodes' background loops sleep on it) each poll moves it on by
    one outbox poll and waits for the loops' turn, instead of waiting on the wall clock."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what} (last: {value!r})")
        if loop_clock is None:
            await asyncio.sleep(pause)
        else:
            await loop_clock.turn(OUTBOX_POLL_SECONDS)


def table_counts(running: RunningNode, *tables: str) -> dict[str, int]:
    return {table: running.count(table) for table in tables}


REVOCATION_TABLES = (
    "records",
    "records_fts",
    "tombstones",
    "revocations",
    "receipts",
    "outbox",
    "events",
    "deliveries",
    "decisions",
)


def verify_problems(running: RunningNode) -> list[Any]:
    """What ``rhizome verify`` would report for the node (empty when intact)."""
    report = verify_archive(running.node.db, running.node.public_key)
    return [*report.problems, *decision_chain_problems(running.node.db)]


async def signed_post(
    cluster: Cluster, sender: RunningNode, target: RunningNode, path: str, body: bytes
) -> tuple[int, str, bytes]:
    """POST ``body`` to ``target`` signed with ``sender``'s real node key, whatever it holds."""
    url = target.url + path
    headers = sign_request(
        sender.node.identity,
        "POST",
        url,
        body,
        created=int(time.time()),
        recipient=target.node_id,
    )
    headers["Content-Type"] = MSGPACK
    async with cluster.session.post(url, data=body, headers=headers) as response:
        return response.status, response.content_type, await response.read()


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, f"{self.stdout}\n{self.stderr}"
        return json.loads(self.stdout)

    def one_error_line(self, *needles: str) -> str:
        """Exit 1 with exactly one ``Error: …`` line naming each needle, and no traceback."""
        assert self.code == 1, f"exit {self.code}\n{self.stdout}\n{self.stderr}"
        assert "Traceback" not in self.stderr + self.stdout
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), lines
        for needle in needles:
            assert needle in lines[0], lines[0]
        return lines[0]


async def rhizome(home: Path, *args: str, member: str | None = None) -> Ran:
    """Run the installed ``rhizome`` console script on ``home`` in its own process (the
    event loop keeps serving the nodes meanwhile)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    env["COLUMNS"] = "80"
    before = ["--as", member] if member else []
    process = await asyncio.create_subprocess_exec(
        str(RHIZOME),
        "--home",
        str(home),
        *before,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Ran(process.returncode, stdout.decode(), stderr.decode())
