"""``rhizome doctor``: checks an operator can act on, each with what to do when it fails.

Local checks read the home (permissions, the key's seal, disk space, the schema); network
checks ask the node's own advertised URL and every active peer's ``/healthz`` (reachable,
and how far its clock is from ours, from the ``Date`` header of its answer: signed requests
are refused beyond :data:`crypto.http_signatures.DEFAULT_MAX_SKEW` seconds). The echo check
asks each active peer to reach our URL as *it* knows it, and believes only its signed answer
(:mod:`federation.echo`): "from this machine" says little about a firewall or a router.

Every check, detail and remedy is in the current language; ``rhizome doctor --json`` runs in
English (:func:`node.cli.output.json_option`), so programs read the same words everywhere.
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
from node.i18n import N_
from node.i18n import gettext as _
from node.sealed_home import is_sealed
from node.status import LOW_DISK_BYTES, NodeStatus

OK, WARN, FAIL = "ok", "warn", "fail"
CHECK_DEADLINE = 5.0
SKEW_WARNING = 60  # seconds: well inside the limit, but drifting
PRIVATE_FILES = ("home.key", "node.key", "session.key", "api_token.key", "serve.lock")
# federation.client.no_answer_words says why a peer did not answer; the federation layer
# cannot import node.i18n, so its fixed sentences are marked here and translated when shown.
NO_ANSWER_WORDS = (
    N_("no answer in time: the hub may be down, overloaded or far away; sync retries"),
    N_("this host name cannot be found: check the address for typos"),
    N_(
        "the secure connection failed (the other end may not speak TLS, or something on "
        "the way refuses it): check that the address is the hub's https:// address"
    ),
    N_("nothing answers at this address: is the other hub's node running?"),
)


def _no_answer(error: BaseException) -> str:
    return _(no_answer_words(error))


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
            problem = _("{path} is {mode}: other accounts can open it").format(
                path=path, mode=f"{actual:04o}"
            )
            found.append(Finding(_("permissions"), FAIL, problem, f"chmod {mode:o} {path}"))
    if found:
        return found
    private = _("{home} and its keys are private to you").format(home=home)
    return [Finding(_("permissions"), OK, private)]


def _seal_finding(status: NodeStatus, home_sealed: bool) -> Finding:
    check = _("key seal")
    if status.key_sealed and home_sealed:
        return Finding(check, OK, _("the home is sealed: database, keys and secrets encrypted"))
    if status.key_sealed:
        return Finding(
            check, WARN, _("the node key is sealed, but the database lies in plain text"),
            _("seal the whole home with `rhizome seal` (docs/how-to/seal-your-hub.md)"),
        )  # fmt: skip
    if status.key_sealed is None:
        return Finding(
            check, FAIL, _("the node key file cannot be read"), _("restore it from a backup")
        )
    return Finding(
        check, WARN, _("the node key is not sealed: whoever copies the home signs as this hub"),
        _("seal the home with `rhizome seal` (docs/how-to/seal-your-hub.md)"),
    )  # fmt: skip


def _disk_finding(status: NodeStatus) -> Finding:
    free = _("{megabytes} MB free on the home's disk").format(
        megabytes=status.disk_free // (1024 * 1024)
    )
    if status.disk_free < LOW_DISK_BYTES:
        return Finding(
            _("disk"), WARN, free,
            _("free some space: when the disk is full, nothing new is stored"),
        )  # fmt: skip
    return Finding(_("disk"), OK, free)


def _schema_finding(status: NodeStatus) -> Finding:
    if status.schema == status.schema_latest:
        latest = _("database schema version {schema}, the latest").format(schema=status.schema)
        return Finding(_("schema"), OK, latest)
    known = _("database schema {schema}, this Rhizome knows {latest}").format(
        schema=status.schema, latest=status.schema_latest
    )
    return Finding(_("schema"), FAIL, known, _("run any rhizome command once, or upgrade Rhizome"))


async def network_findings(
    status: NodeStatus, own_url: str, peers: list[Peer], now: float | None = None
) -> list[Finding]:
    """Our advertised URL (when we serve) and every active peer, all at once."""
    async with aiohttp.ClientSession() as session:
        checks = [_peer_finding(session, peer, now) for peer in peers if peer.status == "active"]
        own = _own_url_finding(session, status, own_url)
        return list(await asyncio.gather(own, *checks))


async def _own_url_finding(session: aiohttp.ClientSession, status: NodeStatus, url: str) -> Finding:
    check = _("advertised URL")
    if status.served_by is None:
        return Finding(
            check, WARN, _("not checked: nothing serves this home now ({url})").format(url=url),
            _("start `rhizome serve`, then run doctor again"),
        )  # fmt: skip
    try:
        await _health(session, url, status.node_id)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Finding(
            check, FAIL, f"{url}: {_no_answer(error)}",
            _("set [node] url in config.toml to an address peers can reach, and restart serve"),
        )  # fmt: skip
    return Finding(check, OK, _("{url} answers (from this machine)").format(url=url))


async def _peer_finding(session: aiohttp.ClientSession, peer: Peer, now: float | None) -> Finding:
    check = _("peer {name}").format(name=peer.name)
    try:
        date = await _health(session, peer.url, peer.node_id)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Finding(check, FAIL, f"{peer.url}: {_no_answer(error)}", _("ask its operator"))
    if date is None:
        return Finding(check, OK, _("reachable (it sent no clock to compare)"))
    skew = round(date - (time.time() if now is None else now))
    seconds = f"{skew:+d}"
    if abs(skew) > DEFAULT_MAX_SKEW:
        return Finding(
            check, FAIL,
            _("reachable, but its clock is {seconds} s from ours: syncs are refused").format(
                seconds=seconds
            ),
            _("turn on automatic time (NTP) on whichever machine is wrong"),
        )  # fmt: skip
    if abs(skew) > SKEW_WARNING:
        return Finding(
            check, WARN, _("reachable; its clock is {seconds} s from ours").format(seconds=seconds),
            _("turn on NTP before the difference passes {limit} s").format(limit=DEFAULT_MAX_SKEW),
        )  # fmt: skip
    agree = _("reachable; clocks agree within {seconds} s").format(seconds=max(abs(skew), 1))
    return Finding(check, OK, agree)


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
    check = _("echo from {name}").format(name=peer.name)
    try:
        echo = await ask_echo(client, peer)
    except InvalidEcho as error:
        return Finding(
            check, FAIL,
            _("{name}'s answer is not believed: {error}").format(name=peer.name, error=error),
            _("someone may be in the middle, or the peer is misbehaving: ask its operator"),
        )  # fmt: skip
    except RhizomeError as error:
        return Finding(
            check, WARN, _("could not ask {name}: {error}").format(name=peer.name, error=error),
            _("try again later"),
        )  # fmt: skip
    if echo.reached:
        reached = _("{name} reached you at {url}: yes ({detail})")
        return Finding(check, OK, reached.format(name=peer.name, url=echo.url, detail=echo.detail))
    return Finding(
        check, FAIL,
        _("{name} reached you at {url}: no ({detail})").format(
            name=peer.name, url=echo.url, detail=echo.detail
        ),
        _(
            "open the port to the internet (firewall, router), or set [node] url in "
            "config.toml to an address peers can reach and pair again"
        ),
    )  # fmt: skip


def findings_json(findings: list[Finding]) -> dict[str, Any]:
    return {
        "healthy": not any(f.result == FAIL for f in findings),
        "checks": [vars(finding) for finding in findings],
    }
