"""Peak memory of a node serving a big archive: ``rhizome serve`` at 100k and 1M lessons.

The archive is generated straight into the server's home (sign + ``insert_record``, one
transaction per 5,000; short bodies, since memory does not follow body size and a million
2 KB lessons would take a quarter of an hour). A second home is paired with it by writing
each other's ``peers`` row (pairing is not what this measures). Then the server, in its own
process, answers what a node answers all day: a page of the list and a search on
``/api/v1/lessons``, then a full reconciliation from the peer (``federation.sync.reconcile``
against an empty archive, so the server builds its whole offer set), twice: the first time it
also writes a decision state per record, the second time it reads them back. The peak RSS
(``VmHWM`` in ``/proc/PID/status``) is read after each phase and reset between phases through
``/proc/PID/clear_refs``, so each phase has its own peak. Then, in this process, tracemalloc
measures the parts of an offer set. Target from the issue: at most 300 MB RSS at 1M lessons.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from bench.bench_search import build_archive, print_progress
from bench.bench_sync import free_port, make_node, wait_for
from bench.common import trusting, write_result
from federation import client as client_module
from federation import sync as sync_module
from federation.client import PeerClient
from federation.negentropy import Storage
from federation.peers import get_peer, save_peer
from federation.sync import SyncReport, reconcile
from governance.decision_log import denial_states
from node.actions.members import CreateToken, create_token
from node.database import open_database
from node.node import Node

TARGET_RSS_MB = 300.0
TARGET_SIZE = 1_000_000
WORDS_PER_LESSON = 60
# Long enough for the server to build a million-record offer set; the real client gives up
# after client.REQUEST_DEADLINE, which the results compare with the first round trip.
BENCH_DEADLINE = 1_800.0
PHASES = ("startup", "list_and_search", "first_reconcile", "second_reconcile")


def status_mb(pid: int, name: str) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{name} missing from /proc/{pid}/status")


def reset_peak(pid: int) -> bool:
    """Set VmHWM back to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


class TimedClient(PeerClient):
    """A peer client that notes how long each round trip took."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.round_trips: list[float] = []

    async def call(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        started = time.perf_counter()
        answer = await super().call(*args, **kwargs)
        self.round_trips.append(time.perf_counter() - started)
        return answer


async def reconcile_once(peer_home: Path, server_id: str) -> dict[str, Any]:
    node = Node(peer_home)
    # A peer that holds nothing learns at most FRAME_SIZE_LIMIT / 32 ids a round, so a big
    # archive needs more rounds than sync allows; lift the cap here, report the rounds used.
    default_max_rounds, sync_module.MAX_ROUNDS = sync_module.MAX_ROUNDS, 1_000_000
    try:
        peer = get_peer(node.db, server_id)
        assert peer is not None
        async with aiohttp.ClientSession() as session:
            client = TimedClient(node.local_node(), session, BENCH_DEADLINE)
            report = SyncReport(peer=server_id)
            started = time.perf_counter()
            have, need = await reconcile(client, peer, report)
            elapsed = time.perf_counter() - started
    finally:
        sync_module.MAX_ROUNDS = default_max_rounds
        node.close()
    return {
        "seconds": round(elapsed, 2),
        "round_trips": report.rounds,
        "sync_max_rounds": default_max_rounds,
        "first_round_trip_s": round(client.round_trips[0], 2),
        "need": len(need),
        "have": len(have),
    }


def get_ms(url: str, home: Path, token: str) -> float:
    """Milliseconds for one read of the API as a member's script (its read-only token)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(
        request, timeout=BENCH_DEADLINE, context=trusting(home)
    ) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def offer_set_parts(database: Path, peer_id: str) -> dict[str, float]:
    """MB of what the server holds while it builds an offer set for ``peer_id``, measured
    with tracemalloc: the list of (created, id) tuples ``Offer.offer_items`` returns, the
    decision states it reads back (one per record after the first session), and the
    negentropy storage built from the list."""
    db = open_database(database)
    rows = db.execute("SELECT created, id FROM records ORDER BY created, id")
    tracemalloc.start()
    items = [(int(created), bytes.fromhex(record_id)) for created, record_id in rows]
    items_mb = tracemalloc.get_traced_memory()[0] / 2**20
    storage_mb = Storage.from_sorted(items).nbytes / 2**20
    del items
    before = tracemalloc.get_traced_memory()[0]
    states = denial_states(db, peer_id, "outbound")
    states_mb = (tracemalloc.get_traced_memory()[0] - before) / 2**20
    tracemalloc.stop()
    db.conn.close()
    return {
        "offer_items_list_mb": round(items_mb, 1),
        "decision_states_mb": round(states_mb, 1),
        "decision_states": len(states),
        "negentropy_storage_mb": round(storage_mb, 1),
    }


def measure(size: int, root: Path) -> dict[str, Any]:
    port = free_port()
    server_name, peer_name = f"serve-{size}", f"peer-{size}"
    server_node = make_node(root, server_name, port)
    peer_node = make_node(root, peer_name, free_port())  # nothing listens there
    progress = print_progress(f"{size:,}", size, time.perf_counter())
    build_seconds = build_archive(
        server_node.db, server_node.identity, size, WORDS_PER_LESSON, progress
    )
    now = int(time.time())
    server_id, peer_id = server_node.node_id, peer_node.node_id
    save_peer(server_node.db, peer_id, "Peer", "Lab", peer_node.config.url, now)
    save_peer(peer_node.db, server_id, "Server", "Lab", server_node.config.url, now)
    database = server_node.paths.database
    admin = server_node.member("admin")
    token = create_token(server_node, CreateToken(admin, admin.name, "bench")).secret
    server_node.close()
    peer_node.close()
    rhizome = Path(sys.executable).parent / "rhizome"
    log = (root / f"{server_name}.log").open("wb")
    server = subprocess.Popen(
        [str(rhizome), "--home", str(root / server_name), "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"https://127.0.0.1:{port}"
    home = root / server_name
    peaks: dict[str, float] = {}
    can_reset = True
    try:
        wait_for(f"{base}/healthz", 120, home=home)
        peaks["startup"] = status_mb(server.pid, "VmHWM")
        can_reset = reset_peak(server.pid)
        list_ms = get_ms(f"{base}/api/v1/lessons?limit=50", home, token)
        search_ms = get_ms(f"{base}/api/v1/lessons?q=consent+training&limit=20", home, token)
        peaks["list_and_search"] = status_mb(server.pid, "VmHWM")
        reset_peak(server.pid)
        first = asyncio.run(reconcile_once(root / peer_name, server_id))
        peaks["first_reconcile"] = status_mb(server.pid, "VmHWM")
        reset_peak(server.pid)
        second = asyncio.run(reconcile_once(root / peer_name, server_id))
        peaks["second_reconcile"] = status_mb(server.pid, "VmHWM")
        rss_after = status_mb(server.pid, "VmRSS")
    except BaseException:
        log.flush()
        print((root / f"{server_name}.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    assert first["need"] == size, first
    return {
        "lessons": size,
        "peak_rss_mb": round(max(peaks.values()), 1),
        "phase_peak_rss_mb": {name: round(value, 1) for name, value in peaks.items()},
        "rss_after_mb": round(rss_after, 1),
        "peaks_reset_between_phases": can_reset,
        "list_ms": round(list_ms, 1),
        "search_ms": round(search_ms, 1),
        "first_reconcile": first,
        "second_reconcile": second,
        "database_mb": round(database.stat().st_size / 1e6, 1),
        "build_seconds": round(build_seconds, 1),
        "offer_set_parts": offer_set_parts(database, peer_id),
    }


def notes(rows: list[dict[str, Any]]) -> str:
    """By how much and why the target is missed, from the measurements (empty if met)."""
    largest = rows[-1]
    peak, phases = largest["peak_rss_mb"], largest["phase_peak_rss_mb"]
    parts = largest["offer_set_parts"]
    worst = max(phases, key=phases.__getitem__)
    if largest["lessons"] < TARGET_SIZE or peak <= TARGET_RSS_MB:
        return ""
    return (
        f"At {largest['lessons']:,} lessons the server peaks at {peak:.0f} MB, "
        f"{peak - TARGET_RSS_MB:.0f} MB ({peak / TARGET_RSS_MB:.2f}x) over the "
        f"{TARGET_RSS_MB:.0f} MB target, during the {worst.replace('_', ' ')} "
        f"(startup {phases['startup']:.0f} MB). Offer.offer_items holds a Python "
        f"(created, id) tuple per record, {parts['offer_items_list_mb']:.0f} MB, until the "
        f"negentropy storage ({parts['negentropy_storage_mb']:.0f} MB) is built from it; "
        "and log_denial_if_new keeps the decision state of every record in a dict, "
        f"{parts['decision_states_mb']:.0f} MB for {parts['decision_states']:,} states "
        "when a later session reads them back (the first session fills the same dict as "
        "it goes). Feeding offer_items' rows straight into Storage.from_sorted (a "
        "generator, not a list) and keeping only the denials in memory (or checking them "
        "in SQL) would leave about the storage on top of start-up."
    )


def findings(rows: list[dict[str, Any]]) -> list[str]:
    """Other problems the run ran into, whatever the memory target's verdict."""
    largest = rows[-1]
    sentences = []
    first, second = largest["first_reconcile"], largest["second_reconcile"]
    deadline = client_module.REQUEST_DEADLINE
    slow = [
        f"{name} {run['first_round_trip_s']:.0f} s"
        for name, run in (("the first time", first), ("the second", second))
        if run["first_round_trip_s"] > deadline
    ]
    if slow:
        sentences.append(
            f"At {largest['lessons']:,} lessons the server took longer than a peer waits "
            f"({deadline:.0f} s, client.REQUEST_DEADLINE) to answer the first reconciliation "
            f"message: {' and '.join(slow)}. It decides every record for the peer (and, the "
            "first time, writes a decision state for each) before it answers, blocking its "
            "event loop meanwhile; a real peer's sync fails with 'no answer (TimeoutError)'. "
            "The benchmark's client waits longer."
        )
    if first["round_trips"] > first["sync_max_rounds"]:
        sentences.append(
            f"A peer with an empty archive needed {first['round_trips']} round trips to "
            f"reconcile with {largest['lessons']:,} lessons (about "
            f"{largest['lessons'] // max(1, first['round_trips']):,} ids a round, the "
            "negentropy frame limit); federation.sync stops at "
            f"MAX_ROUNDS = {first['sync_max_rounds']} with 'reconciliation did not converge' "
            "before fetching anything, so a new peer can never make its first sync with this "
            "node; the benchmark lifts the cap."
        )
    return sentences


def run(quick: bool = False) -> dict[str, Any]:
    sizes = (10_000,) if quick else (100_000, 1_000_000)
    rows = []
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-memory-") as tmp:
        for size in sizes:
            row = measure(size, Path(tmp))
            rows.append(row)
            phases = ", ".join(
                f"{name.replace('_', ' ')} {value:.0f}"
                for name, value in row["phase_peak_rss_mb"].items()
            )
            print(
                f"memory, {size:,} lessons: peak RSS {row['peak_rss_mb']:.0f} MB "
                f"(target <= {TARGET_RSS_MB:.0f} MB at {TARGET_SIZE:,}); by phase, MB: {phases}; "
                f"list {row['list_ms']:.0f} ms, search {row['search_ms']:.0f} ms, reconcile "
                f"{row['first_reconcile']['seconds']:.1f} s then "
                f"{row['second_reconcile']['seconds']:.1f} s",
                flush=True,
            )
    largest = rows[-1]
    result = {
        "target": {"rss_mb": TARGET_RSS_MB, "lessons": TARGET_SIZE},
        "words_per_lesson": WORDS_PER_LESSON,
        "results": rows,
        "peak_over_target_at_largest": round(largest["peak_rss_mb"] / TARGET_RSS_MB, 2),
        "target_size_measured": largest["lessons"] >= TARGET_SIZE,
        "notes": notes(rows),
        "findings": findings(rows),
    }
    for text in [result["notes"], *result["findings"]]:
        if text:
            print(text)
    print(f"wrote {write_result('memory', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only 10k lessons")
    run(parser.parse_args().quick)
