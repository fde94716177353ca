"""Real nodes on 127.0.0.1, driven one step at a time from synchronous code.

The stateful model calls plain methods; each one runs its work to the end on the driver's
own event loop (``run``), so between two steps nothing is in flight: no request, no open
transaction, no background task (background sync is off; the model decides when nodes
talk). Homes are real folders, servers are real aiohttp apps on loopback ports, pairing,
sync, bundles and revocation go through the same functions the CLI and the server use.

A node can be down: *stopped* cleanly (for a backup), or *crashed* (see :meth:`crash`).
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from archive.queries import load_record
from archive.record import Lesson
from archive.signed_record import SignedRecord
from crypto.signing import SigningIdentity
from federation.bundles import export_bundle, import_bundle, record_export
from federation.client import PeerClient
from federation.peers import Peer, get_peer
from federation.propagation import receipt_status, revoke_expired
from federation.revocation import Revocation
from federation.sync import SyncReport, sync_with_peer
from governance.policy_file import DEFAULT_POLICY
from node.actions.lessons import (
    ApproveLesson,
    ReviewQuarantined,
    RevokeLesson,
    accept_lesson,
    approve_lesson,
    reject_lesson,
    revoke_lesson,
)
from node.actions.peers import ChangePeerStatus, set_peer_status
from node.config import load_config, render_config
from node.home import CONFIG_FILE, OPERATOR, create_home, create_member
from node.node import Node
from tests.conftest import FakeClock
from tests.integration.conftest import LOOPBACK, Cluster, RunningNode, bound_socket
from tests.integration.revocation_helpers import port_socket, serve

CURATORS = ("ana", "ben")
# C is in another region, so that consent's region lists decide something.
REGIONS = ("East Africa", "Southeast Asia")


def region_of(name: str) -> str:
    return REGIONS[1] if name == "C" else REGIONS[0]


# Every sensitivity may leave (so approvals decide), and approvals scale with it.
MODEL_POLICY = DEFAULT_POLICY.replace('max_sensitivity = "medium"', 'max_sensitivity = "high"')
# C holds what it receives for a curator to accept or reject.
QUARANTINE_POLICY = MODEL_POLICY.replace("quarantine = false", "quarantine = true")
_TEMPLATES: dict[str, Path] = {}


def node_seed(name: str) -> bytes:
    """A fixed key per model node: the same node ids (and record ids) in every run."""
    return bytes([ord(name[0])]) * 32


def node_id_of(name: str) -> str:
    return SigningIdentity.from_seed(node_seed(name)).node_id


def template_home(name: str) -> Path:
    """A fresh home for node ``name`` (key, config, model policy, two curators), made once
    per process: each example copies it instead of generating keys again."""
    if name not in _TEMPLATES:
        folder = tempfile.mkdtemp(prefix="rhizome-model-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        home = Path(folder) / name
        identity = SigningIdentity.from_seed(node_seed(name))
        create_home(
            home, name=f"Hub {name}", region=region_of(name), language="en", url=None,
            host=LOOPBACK, port=1, passphrase=None, identity=identity,
        )  # fmt: skip
        policy = QUARANTINE_POLICY if name == "C" else MODEL_POLICY
        (home / "policy.toml").write_text(policy, encoding="utf-8")
        node = Node(home)
        try:
            for curator in CURATORS:
                create_member(node.paths, node.db, node.identity, curator, ("curator",), None, 0)
        finally:
            node.close()
        _TEMPLATES[name] = home
    return _TEMPLATES[name]


def set_port(home: Path, port: int) -> None:
    path = home / CONFIG_FILE
    config = dataclasses.replace(load_config(path), url=f"https://{LOOPBACK}:{port}", port=port)
    path.write_text(render_config(config), encoding="utf-8")


def disk_image(home: Path) -> dict[Path, bytes]:
    """Every file of a home as its bytes are now (what the OS would hand a new process)."""
    return {path.relative_to(home): path.read_bytes() for path in home.rglob("*") if path.is_file()}


def put_image(home: Path, image: dict[Path, bytes]) -> None:
    """Make ``home`` hold exactly the files of ``image`` again."""
    for path in home.rglob("*"):
        if path.is_file() and path.relative_to(home) not in image:
            path.unlink()
    for relative, data in image.items():
        (home / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / relative).write_bytes(data)


class Killed(BaseException):
    """Where the model kills a node: a BaseException, so no handler of ours catches it."""


@dataclass
class Slot:
    """One model node: its home and port (both kept for life) and its server when up."""

    name: str
    home: Path
    port: int
    running: RunningNode | None = None

    @property
    def node_id(self) -> str:
        return node_id_of(self.name)


class Federation:
    """The nodes of one example, their loop, their HTTP session and their shared clock."""

    def __init__(self, names: tuple[str, ...], clock: FakeClock) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rhizome-model-"))
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.session = self.run(_new_session())
        self.cluster = Cluster(_no_new_homes, self.session)
        self.slots: dict[str, Slot] = {}
        self.backups = 0
        for name in names:
            home = self.root / name
            shutil.copytree(template_home(name), home)
            sock = bound_socket()
            port = int(sock.getsockname()[1])
            set_port(home, port)
            self.slots[name] = Slot(name, home, port)
            self._serve(self.slots[name], sock)

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        try:
            self.run(self.cluster.close())
        finally:
            self.loop.close()
            shutil.rmtree(self.root, ignore_errors=True)

    # -- life of a node -------------------------------------------------------------------

    def up(self, name: str) -> bool:
        return self.slots[name].running is not None

    def node(self, name: str) -> Node:
        running = self.slots[name].running
        assert running is not None, f"{name} is down"
        return running.node

    def _serve(self, slot: Slot, sock: Any) -> None:
        slot.running = self.run(
            serve(self.cluster, slot.home, sock, background_sync=False, clock=self.clock)
        )

    def start(self, name: str) -> None:
        slot = self.slots[name]
        assert slot.running is None
        self._serve(slot, port_socket(slot.port))

    def stop(self, name: str) -> None:
        """A clean shutdown: the server's cleanup runs, the database is closed."""
        slot = self.slots[name]
        assert slot.running is not None
        self.run(self.cluster.stop(slot.running))
        slot.running = None

    def crash(self, name: str) -> None:
        """The node dies as under ``kill -9`` between two steps.

        Between steps no transaction is open, so what a killed process leaves on disk is
        every file exactly as it is at this moment: the database, its write-ahead log not
        checkpointed, the shared-memory index. We take that image, let the in-process server
        go (freeing the port), then put the image back over whatever the shutdown wrote:
        nothing a clean shutdown would do survives, and everything in memory is lost.
        """
        slot = self.slots[name]
        image = disk_image(slot.home)
        self.stop(name)
        put_image(slot.home, image)

    def back_up(self, name: str) -> Path:
        """Stop the node, copy its home (as an operator's backup does), start it again."""
        self.stop(name)
        self.backups += 1
        copy = self.root / "backups" / f"{name}-{self.backups}"
        shutil.copytree(self.slots[name].home, copy)
        self.start(name)
        return copy

    def restore(self, name: str, backup: Path) -> None:
        """Bring ``backup`` back as the node's home and serve it on the node's port."""
        if self.up(name):
            self.stop(name)
        home = self.slots[name].home
        shutil.rmtree(home)
        shutil.copytree(backup, home)
        self.start(name)

    # -- what a node's operator and members do ---------------------------------------------

    def add(self, name: str, lesson: Lesson) -> SignedRecord:
        return self.node(name).writer.add_lesson(lesson)

    def record(self, name: str, record_id: str) -> SignedRecord:
        return load_record(self.node(name).db, record_id)

    # Members act through node.actions, the functions the CLI, the JSON API and the web
    # pages all call.

    def approve(self, name: str, record_id: str, curator: str) -> bool:
        node = self.node(name)
        return approve_lesson(node, ApproveLesson(node.member(curator), record_id)).new

    def set_peer_status(self, name: str, other: str, status: str) -> None:
        """What ``rhizome peer suspend`` / ``resume`` do."""
        node, event = self.node(name), {"active": "resume", "suspended": "suspend"}[status]
        set_peer_status(node, ChangePeerStatus(node.member(OPERATOR), node_id_of(other), event))

    def revoke_expired(self, name: str) -> list[Revocation]:
        """What the node's housekeeping does: withdraw what its consent let expire."""
        return revoke_expired(self.node(name).local_node())

    def revoke(self, name: str, record_id: str) -> tuple[str, ...]:
        """The operator withdraws a lesson; the ids withdrawn with it."""
        node = self.node(name)
        request = RevokeLesson(node.member(OPERATOR), record_id, "consent-withdrawn")
        return revoke_lesson(node, request).record_ids

    def pair(self, inviter: str, joiner: str) -> None:
        inviting, joining = self.slots[inviter].running, self.slots[joiner].running
        assert inviting is not None and joining is not None
        self.run(self.cluster.pair(inviting, joining))

    def sync(self, initiator: str, other: str) -> SyncReport:
        starting = self.slots[initiator].running
        assert starting is not None
        peer = self.peer(initiator, other)
        assert peer is not None
        return self.run(sync_with_peer(self.cluster.client(starting), peer))  # type: ignore[no-any-return]

    def sync_until_killed(
        self, initiator: str, other: str, requests: int
    ) -> dict[str, str | None] | None:
        """Sync, and kill the initiator (as :meth:`crash` does) just before it sends its
        ``requests``-th request of the exchange; what it held when it died, or None if the
        exchange ended before that request.

        Every request before it was answered, so this is a kill between two steps of the
        protocol: after a withdrawal was taken but before its receipt went back, after a
        batch was stored but before the next fetch, and so on. The count comes from an
        aiohttp trace hook on a session of the initiator's own (aiohttp, not our code).
        """
        starting = self.slots[initiator].running
        peer = self.peer(initiator, other)
        assert starting is not None and peer is not None
        sent = 0

        async def count(*_: Any) -> None:
            nonlocal sent
            sent += 1
            if sent >= requests:
                raise Killed

        async def exchange() -> None:
            trace = aiohttp.TraceConfig()
            trace.on_request_start.append(count)
            async with aiohttp.ClientSession(trace_configs=[trace]) as session:
                await sync_with_peer(PeerClient(starting.node.local_node(), session), peer)

        try:
            self.run(exchange())
        except Killed:
            self.run(asyncio.sleep(0.05))  # the peer finishes answering what it was sent
            held = self.holdings(initiator)
            self.crash(initiator)
            return held
        return None

    def peer(self, name: str, other: str) -> Peer | None:
        return get_peer(self.node(name).db, node_id_of(other))

    def export_bundle(self, sender: str, recipient: str) -> bytes:
        node = self.node(sender)
        local, peer = node.local_node(), self.peer(sender, recipient)
        assert peer is not None, f"{sender} does not know {recipient}"
        made = export_bundle(local, peer, None)
        record_export(local, peer, made)
        return made.data

    def import_bundle(self, recipient: str, data: bytes) -> None:
        import_bundle(self.node(recipient).local_node(), data)

    # -- what the invariants read ----------------------------------------------------------

    def rows(self, name: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.node(name).db.execute(sql, params or [])]

    def files(self, name: str) -> list[tuple[str, bytes]]:
        """(path in the home, bytes) of every file of a node's home, as they are now."""
        home = self.slots[name].home
        return [(str(path), data) for path, data in disk_image(home).items()]

    def quarantined(self, name: str) -> set[str]:
        rows = self.rows(name, "SELECT id FROM records WHERE quarantined = 1")
        return {str(row[0]) for row in rows}

    def rejected(self, name: str) -> set[str]:
        return {str(row[0]) for row in self.rows(name, "SELECT record_id FROM rejected_records")}

    def review(self, name: str, record_id: str, accept: bool) -> None:
        """A curator accepts or rejects a record waiting in quarantine."""
        node = self.node(name)
        review = accept_lesson if accept else reject_lesson
        review(node, ReviewQuarantined(node.member(CURATORS[0]), record_id))

    def holdings(self, name: str) -> dict[str, str | None]:
        """Record id -> the peer it came from (None: written here), of every record held."""
        return {
            rid: sender for rid, sender in self.rows(name, "SELECT id, received_from FROM records")
        }

    def allowed_outbound(self, name: str) -> set[tuple[str, str]]:
        """(record id, peer id) of every allowing outbound decision in the node's log."""
        sql = "SELECT record_id, peer_id FROM decisions WHERE direction = 'outbound' AND allowed"
        return set(self.rows(name, sql))

    def peers(self, name: str) -> dict[str, str]:
        """The model nodes this node knows as peers: name -> status (active, suspended)."""
        ids = {node_id_of(other): other for other in self.slots}
        rows = self.rows(name, "SELECT node_id, status FROM peers WHERE status != 'removed'")
        return {ids[node_id]: status for node_id, status in rows if node_id in ids}

    def tombstones(self, name: str) -> set[tuple[str, str]]:
        """(record id, origin the tombstone is bound to) of every tombstone the node holds:
        a revocation withdraws only its signer's records, or records derived from them
        that are bound to their own origin."""
        rows = self.rows(
            name,
            "SELECT t.record_id, coalesce(t.derived_origin, r.origin) FROM tombstones AS t "
            "JOIN revocations AS r ON r.revocation_id = t.revocation_id",
        )
        return {(str(record_id), str(origin)) for record_id, origin in rows}

    def approvals(self, name: str) -> set[tuple[str, str]]:
        return set(self.rows(name, "SELECT record_id, member FROM approvals"))

    def purged_holders(self, name: str, record_id: str) -> set[str]:
        """Holders the origin's receipts show as "purged" for its revoked ``record_id``."""
        _, holders = receipt_status(self.node(name).db, record_id)
        return {holder.node for holder in holders if holder.status == "purged"}


async def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def _no_new_homes(**_: Any) -> Path:
    raise AssertionError("the model's homes are copies of its templates")
