"""What TLS costs federation: the same initial sync and revocations over HTTPS and plain HTTP.

Node A serves in its own process (``rhizome serve``), once with TLS (the default: the
certificate made from its node key, pinned by the client) and once as a lab would run it
(``[server] tls = false``, ``[federation] allow_plain_http = true``), on the same home and
the same lessons. For each, a fresh node B in this process pairs with A and runs one initial
sync of every lesson (timed), then A revokes lessons one at a time and B takes each
revocation as a holder does when it asks its peer (a new connection each time, so the TLS
handshake is in every measurement): the time from B's request to A holding B's signed purge
receipt is the revocation latency. Each round serves a fresh copy of A's home; the rounds
run plain, TLS, TLS, plain in the same run on the same machine, and each transport's best
sync is compared (the machine is shared: the best is the least disturbed). Target from the
issue: TLS costs no more than 15% on the 20k-lesson sync.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.bench_sync import free_port, make_node, wait_for
from bench.common import write_corpus, write_result
from federation.client import PeerClient
from federation.invites import create_invite, encode_invite
from federation.pairing import join_with_invite
from federation.peers import Peer
from federation.propagation import revoke
from federation.revocation import Actor
from federation.revocation_client import ExchangeReport, pull_outbox
from federation.sync import sync_with_peer
from node.importer import import_folder
from node.node import Node

TARGET_OVERHEAD = 0.15  # TLS may cost at most 15% more than plain HTTP on the initial sync
REVOCATIONS = 5
RHIZOME = Path(sys.executable).parent / "rhizome"


def set_transport(home: Path, tls: bool) -> None:
    """Edit config.toml as an operator would: TLS on (the default), or a lab's plain HTTP."""
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    for key, value in (("tls", tls), ("allow_plain_http", not tls)):
        text, found = re.subn(rf"(?m)^{key} = (true|false)$", f"{key} = {str(value).lower()}", text)
        assert found == 1, key
    config.write_text(text, encoding="utf-8")


async def sync_and_revoke(node_a: Node, node_b: Node, url: str) -> dict[str, Any]:
    """Pair B with A at ``url``, time the initial sync, then REVOCATIONS revocations."""
    code = encode_invite(create_invite(node_a.db, node_a.node_id, url, int(time.time()), 600))
    async with aiohttp.ClientSession() as session:
        client = PeerClient(node_b.local_node(), session)
        peer = await join_with_invite(client, code)
        started = time.perf_counter()
        report = await sync_with_peer(client, peer)
        sync_seconds = time.perf_counter() - started
    if report.errors:
        raise RuntimeError(report.errors)
    latencies = [await one_revocation(node_a, node_b, peer) for _ in range(REVOCATIONS)]
    return {
        "received": report.received,
        "sync_seconds": round(sync_seconds, 3),
        "sync_records_per_second": round(report.received / sync_seconds),
        "revocation_ms": [round(seconds * 1000, 1) for seconds in latencies],
        "revocation_median_ms": round(statistics.median(latencies) * 1000, 1),
    }


async def one_revocation(node_a: Node, node_b: Node, peer: Peer) -> float:
    """A revokes one lesson B holds; seconds from B asking A to A holding B's receipt."""
    (record_id,) = node_b.db.execute(
        "SELECT id FROM records WHERE origin = ? ORDER BY id LIMIT 1", [peer.node_id]
    ).fetchone()
    admin = node_a.member("admin")
    actor = Actor(admin.name, node_a.member_identity("admin"), admin.certificate)
    revocation = revoke(node_a.local_node(), record_id, actor, "consent-withdrawn", None)
    async with aiohttp.ClientSession() as session:  # a new connection: handshake included
        started = time.perf_counter()
        report = ExchangeReport()
        await pull_outbox(PeerClient(node_b.local_node(), session), peer, report)
        elapsed = time.perf_counter() - started
    assert report.revocations_received == 1 and report.receipts_sent == 1, report
    receipts = node_a.db.execute(
        "SELECT count(*) FROM receipts WHERE revocation_id = ?", [revocation.revocation_id]
    ).fetchone()[0]
    assert receipts == 1, "A does not hold B's receipt"
    return elapsed


def one_transport(root: Path, source: Path, tls: bool, round_: int) -> dict[str, Any]:
    """Serve a fresh copy of A's home with or without TLS; a fresh B syncs with it and takes
    revocations. A copy each time: no peer, outbox or purge from another round weighs on it."""
    scheme = "https" if tls else "http"
    home_a = root / f"a-{scheme}-{round_}"
    shutil.copytree(source, home_a)
    set_transport(home_a, tls)
    port = free_port()
    server = subprocess.Popen(
        [str(RHIZOME), "--home", str(home_a), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy(),
    )  # fmt: skip
    try:
        wait_for(f"{scheme}://127.0.0.1:{port}/healthz", 30, home=home_a)
        node_a = Node(home_a)
        node_b = make_node(root, f"b-{scheme}-{round_}", free_port())
        try:
            return asyncio.run(sync_and_revoke(node_a, node_b, f"{scheme}://127.0.0.1:{port}"))
        finally:
            node_b.close()
            node_a.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home_a, ignore_errors=True)


def combined(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One transport's rounds: the best sync (the least disturbed by the busy machine) and
    the median of every revocation."""
    best = min(rounds, key=lambda side: side["sync_seconds"])
    latencies = [ms for side in rounds for ms in side["revocation_ms"]]
    return {
        "received": best["received"],
        "sync_seconds": best["sync_seconds"],
        "sync_seconds_each": [side["sync_seconds"] for side in rounds],
        "sync_records_per_second": best["sync_records_per_second"],
        "revocation_ms": latencies,
        "revocation_median_ms": round(statistics.median(latencies), 1),
    }


def run(quick: bool = False, count: int | None = None) -> dict[str, Any]:
    count = count or (2_000 if quick else 20_000)
    # Plain, TLS, TLS, plain: neither transport always runs first (or last) on a busy machine.
    order = (False, True) if quick else (False, True, True, False)
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-tls-") as tmp:
        root = Path(tmp)
        node_a = make_node(root, "a", free_port())
        imported = import_folder(node_a, write_corpus(root / "lessons", count))
        assert len(imported.imported) == count
        node_a.close()
        rounds: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for round_, tls in enumerate(order):
            rounds[tls].append(one_transport(root, root / "a", tls, round_))
        plain, tls = combined(rounds[False]), combined(rounds[True])
    overhead = tls["sync_seconds"] / plain["sync_seconds"] - 1
    result = {
        "lessons": count,
        "revocations": len(plain["revocation_ms"]),
        "rounds": len(order) // 2,
        "plain": plain,
        "tls": tls,
        "tls_sync_overhead": round(overhead, 3),
        "target_overhead": TARGET_OVERHEAD,
        "tls_revocation_overhead": round(
            tls["revocation_median_ms"] / plain["revocation_median_ms"] - 1, 3
        ),
    }
    print(
        f"tls: {count} lessons: sync {plain['sync_seconds']:.2f} s plain, "
        f"{tls['sync_seconds']:.2f} s TLS ({overhead:+.1%}, target <= "
        f"+{TARGET_OVERHEAD:.0%}); revocation median {plain['revocation_median_ms']} ms "
        f"plain, {tls['revocation_median_ms']} ms TLS"
    )
    write_result("tls", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lessons", type=int, help="how many lessons (default 20000)")
    arguments = parser.parse_args()
    run(arguments.quick, arguments.lessons)
