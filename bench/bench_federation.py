"""A node that stays responsive while peers sync with it: latency, memory and CPU per round.

For each archive size (10k, 100k; 1M with ``--size 1000000``) the archive is generated
straight into a node home (``bench_search.build_archive``: sign + insert, short bodies) and
that node runs ``rhizome serve`` in its own process. Then, for 1, 4 and 8 peers:

- **responsiveness**: the peers (homes of their own, paired by writing each other's
  ``peers`` row) run their first sync against it at the same time, from one child process:
  reconciliation, then every record fetched in batches as sync fetches them. The peers do
  not store what they fetch (the server's work is the same; storing is the peers' own cost
  and would only slow them down, making the server's load lighter). Meanwhile this process
  asks ``/healthz`` and a page of ``/api/v1/lessons`` (a member's read-only token) every
  50 ms, and reports p50, p99 and the longest answer (a request that took X ms waited X ms
  for the event loop at most: the longest answer bounds the longest stall);
- **peak RSS** of the serving node over that phase (``VmHWM``, reset between phases);

then, once per size, with a peer already in sync (its database holds the same records):

- **CPU per sync round**: the server's CPU (``/proc/PID/stat``) and this process's CPU for
  one full ``sync_with_peer``, the first round (both sides build the peer's offer set) and
  the next ones (kept offer sets: one query for the change feed and one fingerprint);

and the **initial sync of 20k** lessons, three times, each against the bare floor measured
right after it (verify + insert + FTS index in one process, ``bench_sync.bare_limit``): the
median ratio is judged, and its rate extrapolates the initial sync of 1M (storing is per
record). ``--only-initial`` runs that part alone. Data lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from archive.db import transaction
from bench.bench_memory import reset_peak, status_mb
from bench.bench_search import build_archive, print_progress
from bench.bench_sync import bare_limit, free_port, make_node, pair_and_sync, wait_for
from bench.common import trusting, write_result
from federation import endpoints, sync, verify_pool
from federation.client import PeerClient
from federation.invites import create_invite, encode_invite
from federation.peers import get_peer, save_peer
from federation.sync import SyncReport, reconcile, sync_with_peer
from node.actions.members import CreateToken, create_token
from node.node import Node

TARGET_P99_MS = 100.0
TARGET_GAP_MS = 250.0
TARGET_RSS_MB = 400.0
TARGET_ROUND_CPU_S = 1.0
TARGET_INITIAL_RATIO = 1.5
TARGET_MILLION_MINUTES = 5.0
SIZES = (10_000, 100_000)
PEERS = (1, 4, 8)
INITIAL_SIZE = 20_000
INITIAL_RUNS = 3  # pairs of (sync, bare floor), side by side; the median ratio is judged
WORDS = 20  # short bodies: latency and memory do not follow body size
PROBE_SECONDS = 0.05
IN_SYNC_ROUNDS = 3


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (``/proc/PID/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Prober(threading.Thread):
    """Asks ``/healthz`` and a page of the lesson list in turn until stopped."""

    def __init__(self, base: str, home: Path, token: str) -> None:
        super().__init__(daemon=True)
        self.base, self.context, self.token = base, trusting(home), token
        self.latencies: dict[str, list[float]] = {"healthz": [], "lessons": []}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for name, path in (("healthz", "/healthz"), ("lessons", "/api/v1/lessons?limit=50")):
                request = urllib.request.Request(
                    self.base + path, headers={"Authorization": f"Bearer {self.token}"}
                )
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=600, context=self.context) as answer:
                    answer.read()
                self.latencies[name].append((time.perf_counter() - started) * 1000)
                self.stopping.wait(PROBE_SECONDS)

    def summary(self) -> dict[str, Any]:
        return {name: _spread(values) for name, values in self.latencies.items()}


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(ordered[-1], 1),
    }


# --- The peers' side, in a child process -----------------------------------------------------


async def first_sync_without_storing(home: Path, server_id: str, limit: int) -> dict[str, Any]:
    """Reconcile, then fetch the needed records (up to ``limit``) in batches, as sync does;
    keep nothing."""
    node = Node(home)
    peer = get_peer(node.db, server_id)
    assert peer is not None
    started = time.perf_counter()
    fetched = 0
    async with aiohttp.ClientSession() as session:
        client = PeerClient(node.local_node(), session, 1_800)
        report = SyncReport(peer=server_id)
        _, need = await reconcile(client, peer, report)
        need = need[:limit]
        reconciled = time.perf_counter() - started
        while need:
            answer = await client.call(
                endpoints.FETCH, {"ids": need[: sync.BATCH]}, recipient=server_id,
                base_url=peer.url,
            )  # fmt: skip
            fetched += len(answer["records"])
            need = need[answer["handled"] :]
    node.close()
    return {
        "reconcile_s": round(reconciled, 2),
        "seconds": round(time.perf_counter() - started, 2),
        "fetched": fetched,
        "rounds": report.rounds,
    }


async def peers_sync_at_once(homes: list[Path], server_id: str, limit: int) -> list[dict[str, Any]]:
    sync.MAX_ROUNDS = 1_000_000  # an empty peer learns ~4,000 ids a round
    syncs = (first_sync_without_storing(home, server_id, limit) for home in homes)
    return list(await asyncio.gather(*syncs))


# --- The serving node --------------------------------------------------------------------


def pair_by_rows(server: Node, peer: Node) -> None:
    now = int(time.time())
    save_peer(server.db, peer.node_id, peer.config.name, "Lab", peer.config.url, now)
    save_peer(peer.db, server.node_id, server.config.name, "Lab", server.config.url, now)


def mirror_archive(peer: Node, server_database: Path, server_id: str) -> None:
    """Give ``peer`` the server's records, as if received from it (no FTS: not needed)."""
    db = peer.db
    db.execute("ATTACH DATABASE ? AS source", [str(server_database)])
    with transaction(db):
        db.execute("INSERT INTO records SELECT * FROM source.records")
        db.execute("UPDATE records SET received_from = ?", [server_id])
    db.execute("DETACH DATABASE source")


def in_sync_rounds(peer_home: Path, server_id: str, server_pid: int) -> list[dict[str, float]]:
    """CPU of each side for full sync rounds of a peer already in sync."""

    async def rounds() -> list[dict[str, float]]:
        node = Node(peer_home)
        peer = get_peer(node.db, server_id)
        assert peer is not None
        found = []
        async with aiohttp.ClientSession() as session:
            client = PeerClient(node.local_node(), session, 1_800)
            for _ in range(IN_SYNC_ROUNDS):
                server_before, ours_before = cpu_seconds(server_pid), time.process_time()
                started = time.perf_counter()
                report = await sync_with_peer(client, peer)
                assert report.errors == [] and report.received == report.sent == 0, report
                found.append({
                    "server_cpu_s": round(cpu_seconds(server_pid) - server_before, 3),
                    "peer_cpu_s": round(time.process_time() - ours_before, 3),
                    "wall_s": round(time.perf_counter() - started, 3),
                })  # fmt: skip
        node.close()
        return found

    return asyncio.run(rounds())


def measure_size(size: int, peer_counts: tuple[int, ...], root: Path, limit: int) -> dict[str, Any]:
    port = free_port()
    server = make_node(root, "server", port)
    progress = print_progress(f"{size:,}", size, time.perf_counter())
    build_seconds = build_archive(server.db, server.identity, size, WORDS, progress)
    # Fresh peers for every phase (none finds its offer set kept from an earlier one), and
    # one more that holds the whole archive already.
    peers = [make_node(root, f"peer-{n}", free_port()) for n in range(sum(peer_counts) + 1)]
    for peer in peers:
        pair_by_rows(server, peer)
    admin = server.member("admin")
    token = create_token(server, CreateToken(admin, admin.name, "bench")).secret
    server_id, database = server.node_id, server.paths.database
    server.close()
    mirror = peers.pop()
    mirror_archive(mirror, database, server_id)
    for node in [*peers, mirror]:
        node.close()
    rhizome = Path(sys.executable).parent / "rhizome"
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [str(rhizome), "--home", str(root / "server"), "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"https://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    try:
        wait_for(f"{base}/healthz", 120, home=root / "server")
        first = 0
        for count in peer_counts:
            homes = [root / f"peer-{n}" for n in range(first, first + count)]
            first += count
            rows.append(
                _concurrent_first_syncs(root, base, token, process.pid, server_id, homes, limit)
            )
            print(f"  {size:,} lessons, {count} peers: {json.dumps(rows[-1])}", flush=True)
        in_sync = in_sync_rounds(root / f"peer-{sum(peer_counts)}", server_id, process.pid)
        print(f"  {size:,} lessons, a peer in sync: {in_sync}", flush=True)
    except BaseException:
        log.flush()
        print((root / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
    return {
        "lessons": size,
        "build_seconds": round(build_seconds, 1),
        "first_syncs": rows,
        "in_sync_rounds": in_sync,
    }


def _concurrent_first_syncs(
    root: Path, base: str, token: str, pid: int, server_id: str, homes: list[Path], limit: int
) -> dict[str, Any]:
    reset_peak(pid)
    prober = Prober(base, root / "server", token)
    prober.start()
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "bench.bench_federation", "--peer-worker", server_id, str(limit),
         *map(str, homes)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    prober.stopping.set()
    prober.join()
    if child.returncode != 0:
        raise RuntimeError(child.stderr[-3000:])
    peers = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "peers": len(homes),
        "seconds": round(seconds, 1),
        "peer_syncs": peers,
        "latency": prober.summary(),
        "peak_rss_mb": round(status_mb(pid, "VmHWM"), 1),
    }


def initial_sync(root: Path, size: int = INITIAL_SIZE, runs: int = INITIAL_RUNS) -> dict[str, Any]:
    """Real first syncs (stored, indexed) of ``size`` lessons, each against the bare floor
    measured right after it: ``runs`` pairs side by side, all reported, judged by the median
    ratio (the machine is shared: one pair alone says little)."""
    port = free_port()
    server = make_node(root, "initial-server", port)
    build_archive(server.db, server.identity, size, WORDS)
    envelopes = [bytes(row[0]) for row in server.db.execute("SELECT envelope FROM records")]
    codes = [
        encode_invite(create_invite(server.db, server.node_id, server.config.url,
                                    int(time.time()), 3_600))
        for _ in range(runs)
    ]  # fmt: skip
    server.close()
    rhizome = Path(sys.executable).parent / "rhizome"
    process = subprocess.Popen(
        [str(rhizome), "--home", str(root / "initial-server"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    found = []
    try:
        wait_for(f"https://127.0.0.1:{port}/healthz", 120, home=root / "initial-server")
        for number, code in enumerate(codes):
            receiver = make_node(root, f"initial-peer-{number}", free_port())
            sync_seconds, received = asyncio.run(pair_and_sync(receiver, code))
            receiver.close()
            assert received == size, received
            bare_seconds = bare_limit(envelopes, root / f"initial-bare-{number}.db")
            found.append({"sync_s": round(sync_seconds, 2), "bare_floor_s": round(bare_seconds, 2),
                          "ratio": round(sync_seconds / bare_seconds, 2)})  # fmt: skip
            print(f"  initial sync, run {number + 1}: {json.dumps(found[-1])}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=60)
    middle = sorted(found, key=lambda run: run["ratio"])[len(found) // 2]
    rate = size / middle["sync_s"]
    return {
        "lessons": size,
        **middle,
        "runs": found,
        "verifier_processes": verify_pool.VERIFIERS if (os.cpu_count() or 1) > 1 else 0,
        "lessons_per_s": round(rate),
        "million_minutes_extrapolated": round(1_000_000 / rate / 60, 1),
    }


def run(
    sizes: tuple[int, ...] = SIZES,
    peer_counts: tuple[int, ...] = PEERS,
    limit: int = 0,
    initial_size: int = INITIAL_SIZE,
    initial_runs: int = INITIAL_RUNS,
) -> dict[str, Any]:
    """Every size, then the initial sync; ``limit`` caps what each peer fetches (0: all)."""
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-federation-") as tmp:
        initial = initial_sync(Path(tmp), initial_size, initial_runs)
    print(f"  initial sync: {json.dumps(initial)}", flush=True)
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="rhizome-bench-federation-") as tmp:
            rows.append(measure_size(size, peer_counts, Path(tmp), limit or size))
            write_result("federation", _result(rows, initial, limit))  # each size, as it ends
    return _result(rows, initial, limit)


def _result(rows: list[dict[str, Any]], initial: dict[str, Any], limit: int) -> dict[str, Any]:
    result = {
        "targets": {
            "p99_ms": TARGET_P99_MS,
            "max_gap_ms": TARGET_GAP_MS,
            "peak_rss_mb": TARGET_RSS_MB,
            "in_sync_round_cpu_s": TARGET_ROUND_CPU_S,
            "initial_ratio": TARGET_INITIAL_RATIO,
            "million_minutes": TARGET_MILLION_MINUTES,
        },
        "sizes": rows,
        "fetch_limit": limit,
        "initial_sync": initial,
        "cpus": os.cpu_count(),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, nargs="+", default=list(SIZES), help="lessons")
    parser.add_argument("--peers", type=int, nargs="+", default=list(PEERS))
    parser.add_argument(
        "--fetch-limit", type=int, default=0,
        help="each peer fetches at most this many records (0: all); the offer sets are whole",
    )  # fmt: skip
    parser.add_argument("--initial-size", type=int, default=INITIAL_SIZE)
    parser.add_argument("--initial-runs", type=int, default=INITIAL_RUNS)
    parser.add_argument("--only-initial", action="store_true", help="the initial sync alone")
    parser.add_argument("--quick", action="store_true", help="10k lessons, 1 and 4 peers")
    parser.add_argument("--peer-worker", nargs="+", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.peer_worker:
        server_id, limit, *homes = arguments.peer_worker
        found = asyncio.run(peers_sync_at_once([Path(h) for h in homes], server_id, int(limit)))
        print(json.dumps(found))
        return
    if arguments.only_initial:
        with tempfile.TemporaryDirectory(prefix="rhizome-bench-federation-") as tmp:
            initial = initial_sync(Path(tmp), arguments.initial_size, arguments.initial_runs)
        print(json.dumps(initial))
    elif arguments.quick:
        run((10_000,), (1, 4), 2_000, 4_000, 1)
    else:
        run(tuple(arguments.size), tuple(arguments.peers), arguments.fetch_limit,
            arguments.initial_size, arguments.initial_runs)  # fmt: skip


if __name__ == "__main__":
    main()
