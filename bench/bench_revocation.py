"""Revocation across a federation: time from revoke to the last purge receipt at the origin,
and messages per revocation, against network size.

Each node is a separate ``rhizome serve`` process on loopback. Peers form a ring plus chords
(i to i + N/3), and the lesson says ``reshare: true``, so it travels along the graph and
every node but the origin holds it before the revocation. The revocation is issued the way
``rhizome revoke`` does it (purge, then tell every holder at once); receipts travel back hop
by hop. Targets from the issue: 12 nodes within 1 s, 50 nodes within 2 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench.bench_sync import free_port, wait_for
from bench.common import trusting, write_result
from federation.peers import save_peer
from federation.propagation import revoke
from federation.revocation import Actor
from node.cli.network import run_with_client
from node.cli.revoke_commands import tell_holders_now
from node.home import create_home
from node.node import Node

TARGETS = {12: 1.0, 50: 2.0}
MESSAGE_ROUTES = ("federation_revocations", "federation_receipts", "federation_outbox")
LESSON = """---
title: A lesson that will be withdrawn
kind: story
consent:
  scope: federation
  reshare: true
---
A participant asked for this story to be taken back.
"""


def edges(n: int) -> set[tuple[int, int]]:
    """A ring plus chords: every node has two or three peers, paths stay short."""
    pairs = {tuple(sorted((i, (i + 1) % n))) for i in range(n)}
    if n >= 6:
        pairs |= {tuple(sorted((i, (i + n // 3) % n))) for i in range(0, n, 2)}
    return {(a, b) for a, b in pairs if a != b}  # type: ignore[misc]


def make_federation(root: Path, n: int) -> list[Node]:
    nodes = []
    for index in range(n):
        port = free_port()
        home = root / f"n{index}"
        region = f"Region {index % 4}"
        create_home(
            home, name=f"Hub {index}", region=region, language="en", url=None,
            host="127.0.0.1", port=port, passphrase=None,
        )  # fmt: skip
        nodes.append(Node(root / f"n{index}"))
    # Setting up trust directly in each database: pairing is not what this measures.
    for a, b in edges(n):
        for me, other in ((nodes[a], nodes[b]), (nodes[b], nodes[a])):
            config = other.config
            save_peer(
                me.db, config.node_id, config.name, config.region, config.url, int(time.time())
            )
    return nodes


def holders(nodes: list[Node], record_id: str) -> int:
    count = 0
    for node in nodes:
        with sqlite3.connect(f"file:{node.paths.database}?mode=ro", uri=True) as conn:
            count += conn.execute(
                "SELECT count(*) FROM records WHERE id = ?", [record_id]
            ).fetchone()[0]
    return count


def receipts_at(node: Node, revocation_id: str) -> int:
    row = node.db.execute(
        "SELECT count(*) FROM receipts WHERE revocation_id = ?", [revocation_id]
    ).fetchone()
    return int(row[0])


def messages(nodes: list[Node]) -> int:
    """Revocation, receipt and outbox requests served, summed over every node."""
    total = 0
    for node in nodes:
        answer = urllib.request.urlopen(
            f"{node.config.url}/metrics", timeout=5, context=trusting(node.paths.root)
        )
        text = answer.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if (
                    sample.name == "rhizome_http_requests_total"
                    and sample.labels["route"] in MESSAGE_ROUTES
                ):
                    total += int(sample.value)
    return total


def wait_until(check: Any, seconds: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


def measure(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"rhizome-bench-revoke-{n}-") as tmp:
        root = Path(tmp)
        nodes = make_federation(root, n)
        rhizome = Path(sys.executable).parent / "rhizome"
        servers = [
            subprocess.Popen(
                [str(rhizome), "--home", str(node.paths.root), "serve"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for node in nodes
        ]
        try:
            for node in nodes:
                wait_for(f"{node.config.url}/healthz", 120, home=node.paths.root)
            origin = nodes[0]
            lesson = root / "lesson.md"
            lesson.write_text(LESSON, encoding="utf-8")
            record = origin.add_lesson_file(lesson)
            spread_started = time.perf_counter()
            if not wait_until(lambda: holders(nodes, record.id_hex) == n, 120, 0.1):
                raise RuntimeError(
                    f"the lesson reached only {holders(nodes, record.id_hex)} of {n}"
                )
            spread = time.perf_counter() - spread_started
            before = messages(nodes)
            admin = origin.member("admin")
            actor = Actor(admin.name, origin.member_identity("admin"), admin.certificate)
            started = time.perf_counter()
            revocation = revoke(
                origin.local_node(), record.id_hex, actor, "consent-withdrawn", None
            )
            run_with_client(origin, tell_holders_now)
            done = wait_until(lambda: receipts_at(origin, revocation.revocation_id) >= n - 1, 60)
            elapsed = time.perf_counter() - started
            if not done:
                raise RuntimeError(f"only {receipts_at(origin, revocation.revocation_id)} receipts")
            time.sleep(0.5)  # let the last relays finish before counting messages
            sent = messages(nodes) - before
            left = holders(nodes, record.id_hex)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
            for node in nodes:
                node.close()
    return {
        "nodes": n,
        "links": len(edges(n)),
        "seconds_to_last_receipt": round(elapsed, 3),
        "messages": sent,
        "messages_per_node": round(sent / (n - 1), 2),
        "copies_left": left,
        "spread_seconds": round(spread, 2),
        "target_seconds": TARGETS.get(n),
    }


def run(quick: bool = False) -> dict[str, Any]:
    sizes = [3, 12] if quick else [3, 12, 25, 50]
    rows = []
    for n in sizes:
        row = measure(n)
        rows.append(row)
        target = f" (target {row['target_seconds']} s)" if row["target_seconds"] else ""
        print(
            f"revocation, {n} nodes: last receipt after {row['seconds_to_last_receipt']:.3f} s"
            f"{target}; {row['messages']} messages ({row['messages_per_node']} per holder); "
            f"copies left {row['copies_left']}"
        )
    result = {"runs": rows}
    write_result("revocation", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
