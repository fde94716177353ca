"""The demo's three hubs: homes, members, web servers, pairing."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from archive.db import transaction
from federation.client import PeerClient
from federation.invites import create_invite, encode_invite
from federation.pairing import join_with_invite
from federation.peers import Peer, get_peer
from governance.members import set_password_hash
from node.home import create_home, create_member
from node.node import Node
from node.passwords import hash_password
from node.tls import server_context
from node.web.app import create_app

HUBS = (
    ("Nairobi Hub", "East Africa", "en"),
    ("Manila Hub", "Southeast Asia", "en"),
    ("São Paulo Hub", "South America", "pt-BR"),
)


@dataclass
class Hub:
    node: Node
    runner: web.AppRunner
    password: str
    members: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.config.name

    @property
    def url(self) -> str:
        return self.node.config.url

    def peer(self, other: Hub) -> Peer:
        found = get_peer(self.node.db, other.node.node_id)
        assert found is not None
        return found


def free_port(preferred: int) -> int:
    """``preferred`` if it is free on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


async def start_hub(root: Path, index: int, base_port: int) -> Hub:
    name, region, language = HUBS[index]
    port = free_port(base_port + index if base_port else 0)
    home = root / name.split()[0].lower().replace("ã", "a")
    create_home(home, name=name, region=region, language=language, url=None,
                host="127.0.0.1", port=port, passphrase=None)  # fmt: skip
    node = Node(home)
    password = f"demo-{home.name}-2026"
    _set_password(node, "admin", password)
    runner = web.AppRunner(create_app(node), access_log=None)
    await runner.setup()
    # HTTPS, as `rhizome serve` does: the hubs pair and sync pinned, and print https URLs.
    context = server_context(home, node.identity)
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    return Hub(node, runner, password)


def _set_password(node: Node, member: str, password: str) -> None:
    with transaction(node.db):
        set_password_hash(node.db, member, hash_password(password))


def add_member(hub: Hub, name: str, *roles: str) -> None:
    node = hub.node
    create_member(node.paths, node.db, node.identity, name, roles, None, node.now())
    password = f"demo-{name}-2026"
    _set_password(node, name, password)
    hub.members[name] = password


async def pair(inviter: Hub, joiner: Hub) -> None:
    """Real pairing over HTTP: an invite at one hub, redeemed by the other."""
    node = inviter.node
    code = encode_invite(create_invite(node.db, node.node_id, node.config.url, node.now(), 600))
    async with aiohttp.ClientSession() as session:
        await join_with_invite(PeerClient(joiner.node.local_node(), session), code)


async def stop_hub(hub: Hub) -> None:
    await hub.runner.cleanup()
    hub.node.close()
