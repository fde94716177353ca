"""``rhizome doctor``: checks an operator can act on, each with what to do when it fails.

Local checks read the home (permissions, the key's seal, disk space, the schema); network
checks ask the node's own advertised URL and every active peer's ``/healthz`` (reachable,
and how far its clock is from ours, from the ``Date`` header of its answer: signed requests
are refused beyond :data:`crypto.http_signatures.DEFAULT_MAX_SKEW` seconds). The echo check
asks each active peer to reach our URL as *it* knows it, and believes only its signed answer
(:mod:`federation.echo`): "from this machine" says little about a firewall or a router.
"""

from __future__ import annotations

import asyncio
import email.utils
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from crypto.errors import RhizomeError
from crypto.http_signatures import DEFAULT_MAX_SKEW
from crypto.tls_certificate import FEDERATION_SERVER_NAME
from federation.client import PeerClient, no_answer_words
from federation.echo import InvalidEcho, ask_echo
from federation.local import LocalNode
from federation.peers import Peer
from federation.tls_pin import pin_for
from node.sealed_home import is_sealed
from node.status import LOW_DISK_BYTES, NodeStatus

OK, WARN, FAIL = "ok", "warn", "fail"
CHECK_DEADLINE = 5.0
SKEW_WARNING = 60  # seconds: well inside the limit, but drifting
PRIVATE_FILES = ("home.key", "node.key", "session.key", "api_token.key", "serve.lock")


@dataclass(frozen=True)
class Finding:
    check: str
    result: str  # ok, warn or fail
    detail: str
    remedy: str = ""


def local_findings(status: NodeStatus, home: Path) -> list[Finding]:
    return [
        *permission_findings(home),
        _seal_finding(status, is_sealed(home)),
        _disk_finding(status),
        _schema_finding(status),
    ]


def permission_findings(home: Path) -> list[Finding]:
    """The home and members/ must be 0700, key files 0600: nobody else on the machine reads."""
    found = []
    wanted = [(home, 0o700), (home / "members", 0o700)]
    wanted += [(home / name, 0o600) for name in PRIVATE_FILES if (home / name).exists()]
    wanted += [(key, 0o600) for key in sorted((home / "members").glob("*.key"))]
    for path, mode in wanted:
        if not path.exists():
            continue
        actual = stat.S_IMODE(path.stat().st_mode)
        if actual & 0o077:
            problem = f"{path} is {actual:04o}: other accounts can open it"
            found.append(Finding("permissions", FAIL, problem, f"chmod {mode:o} {path}"))
    return found or [Finding("permissions", OK, f"{home} and its keys are private to you")]


def _seal_finding(status: NodeStatus, home_sealed: bool) -> Finding:
    if status.key_sealed and home_sealed:
        return Finding("key seal", OK, "the home is sealed: database, keys and secrets encrypted")
    if status.key_sealed:
        return Finding(
            "key seal", WARN, "the node key is sealed, but the database lies in plain text",
            "seal the whole home with `rhizome seal` (docs/how-to/seal-your-hub.md)",
        )  # fmt: skip
    if status.key_sealed is None:
        return Finding(
            "key seal", FAIL, "the node key file cannot be read", "restore it from a backup"
        )
    return Finding(
        "key seal", WARN, "the node key is not sealed: whoever copies the home signs as this hub",
        "seal the home with `rhizome seal` (docs/how-to/seal-your-hub.md)",
    )  # fmt: skip


def _disk_finding(status: NodeStatus) -> Finding:
    free_mb = status.disk_free // (1024 * 1024)
    if status.disk_free < LOW_DISK_BYTES:
        return Finding(
            "disk", WARN, f"{free_mb} MB free on the home's disk",
            "free some space: when the disk is full, nothing new is stored",
        )  # fmt: skip
    return Finding("disk", OK, f"{free_mb} MB free on the home's disk")


def _schema_finding(status: NodeStatus) -> Finding:
    if status.schema == status.schema_latest:
        return Finding("schema", OK, f"database schema version {status.schema}, the latest")
    known = f"database schema {status.schema}, this Rhizome knows {status.schema_latest}"
    return Finding("schema", FAIL, known, "run any rhizome command once, or upgrade Rhizome")


async def network_findings(
    status: NodeStatus, own_url: str, peers: list[Peer], now: float | None = None
) -> list[Finding]:
    """Our advertised URL (when we serve) and every active peer, all at once."""
    async with aiohttp.ClientSession() as session:
        checks = [_peer_finding(session, peer, now) for peer in peers if peer.status == "active"]
        own = _own_url_finding(session, status, own_url)
        return list(await asyncio.gather(own, *checks))


async def _own_url_finding(session: aiohttp.ClientSession, status: NodeStatus, url: str) -> Finding:
    if status.served_by is None:
        return Finding(
            "advertised URL", WARN, f"not checked: nothing serves this home now ({url})",
            "start `rhizome serve`, then run doctor again",
        )  # fmt: skip
    try:
        await _health(session, url, status.node_id)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Finding(
            "advertised URL", FAIL, f"{url}: {no_answer_words(error)}",
            "set [node] url in config.toml to an address peers can reach, and restart serve",
        )  # fmt: skip
    return Finding("advertised URL", OK, f"{url} answers (from this machine)")


async def _peer_finding(session: aiohttp.ClientSession, peer: Peer, now: float | None) -> Finding:
    check = f"peer {peer.name}"
    try:
        date = await _health(session, peer.url, peer.node_id)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Finding(check, FAIL, f"{peer.url}: {no_answer_words(error)}", "ask its operator")
    if date is None:
        return Finding(check, OK, "reachable (it sent no clock to compare)")
    skew = round(date - (time.time() if now is None else now))
    if abs(skew) > DEFAULT_MAX_SKEW:
        return Finding(
            check, FAIL, f"reachable, but its clock is {skew:+d} s from ours: syncs are refused",
            "turn on automatic time (NTP) on whichever machine is wrong",
        )  # fmt: skip
    if abs(skew) > SKEW_WARNING:
        return Finding(
            check, WARN, f"reachable; its clock is {skew:+d} s from ours",
            f"turn on NTP before the difference passes {DEFAULT_MAX_SKEW} s",
        )  # fmt: skip
    return Finding(check, OK, f"reachable; clocks agree within {max(abs(skew), 1)} s")


async def _health(session: aiohttp.ClientSession, base_url: str, node_id: str) -> float | None:
    """GET ``/healthz`` of the node ``node_id``, over TLS pinned to its node key as every
    federation connection is; the answer's ``Date`` header as Unix seconds, if any."""
    url = base_url.rstrip("/") + "/healthz"
    async with (
        asyncio.timeout(CHECK_DEADLINE),
        session.get(
            url, allow_redirects=False, ssl=pin_for(node_id),
            server_hostname=FEDERATION_SERVER_NAME,
        ) as reply,
    ):  # fmt: skip
        reply.raise_for_status()
        header = reply.headers.get("Date")
    parsed = email.utils.parsedate_to_datetime(header) if header else None
    return None if parsed is None else parsed.timestamp()


async def echo_findings(local: LocalNode, peers: list[Peer]) -> list[Finding]:
    """Ask every active peer in ``peers`` for a signed echo of our URL, all at once."""
    async with aiohttp.ClientSession() as session:
        client = PeerClient(local, session)
        asked = [_echo_finding(client, peer) for peer in peers if peer.status == "active"]
        return list(await asyncio.gather(*asked))


async def _echo_finding(client: PeerClient, peer: Peer) -> Finding:
    check = f"echo from {peer.name}"
    try:
        echo = await ask_echo(client, peer)
    except InvalidEcho as error:
        return Finding(
            check, FAIL, f"{peer.name}'s answer is not believed: {error}",
            "someone may be in the middle, or the peer is misbehaving: ask its operator",
        )  # fmt: skip
    except RhizomeError as error:
        return Finding(check, WARN, f"could not ask {peer.name}: {error}", "try again later")
    if echo.reached:
        return Finding(check, OK, f"{peer.name} reached you at {echo.url}: yes ({echo.detail})")
    return Finding(
        check, FAIL, f"{peer.name} reached you at {echo.url}: no ({echo.detail})",
        "open the port to the internet (firewall, router), or set [node] url in config.toml to "
        "an address peers can reach and pair again",
    )  # fmt: skip


def findings_json(findings: list[Finding]) -> dict[str, Any]:
    return {
        "healthy": not any(f.result == FAIL for f in findings),
        "checks": [vars(finding) for finding in findings],
    }
