"""A sealed node (SQLCipher database) against an unsealed one, in the same run.

Three measures, each on both kinds of home made alike (same corpus, same order):

- **import**: ``import_folder`` of N lesson files (parse, sign, store, index, log);
- **initial sync**, the receiving side: the same N signed envelopes handed to
  ``Receiver.receive`` in batches, as a sync stores them (verify, decide, log, insert), with
  no HTTP (what encryption at rest can slow down is the storing);
- **search**: a fixed list of 1 to 3 word queries, twice: straight against the search index
  (``MATCH``, 20 row ids: what the encryption can slow down, nothing else around it), and
  through ``archive.search.search`` as the API does (ranked, visible, 20 hits with
  snippets). Rounds alternate between the two homes (the machine is shared: a burst of
  other work then falls on both), best round of each.

Target from the issue: a sealed node within 1.3x of an unsealed one on each. The passphrase
is stretched once per process (argon2id), not per connection, so it is left out.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.search import match_expression, search
from bench.bench_search import queries
from bench.common import write_corpus, write_result
from federation.peers import get_peer, save_peer
from federation.receiving import Receiver
from federation.sync import BATCH
from node.home import create_home
from node.importer import import_folder
from node.node import Node

TARGET_RATIO = 1.3
PASSPHRASE = "bench lantern quarry thistle velvet anchor"
SEARCHES = 200
SEARCH_ROUNDS = 7


def make_node(root: Path, name: str, sealed: bool) -> Node:
    passphrase = PASSPHRASE if sealed else None
    create_home(root / name, name=name, region="Lab", language="en", url=None,
                host="127.0.0.1", port=8470, passphrase=passphrase)  # fmt: skip
    return Node(root / name, passphrase=lambda: PASSPHRASE)


Seconds = tuple[float, float]  # wall clock, CPU time of the process


def _clocks() -> Seconds:
    return time.perf_counter(), time.process_time()


def _since(started: Seconds) -> Seconds:
    wall, cpu = _clocks()
    return wall - started[0], cpu - started[1]


def import_seconds(node: Node, corpus: Path) -> Seconds:
    started = _clocks()
    report = import_folder(node, corpus)
    elapsed = _since(started)
    assert not report.rejected, report.rejected[:3]
    return elapsed


def receive_seconds(node: Node, sender_id: str, envelopes: list[bytes]) -> Seconds:
    save_peer(node.db, sender_id, "source", "Lab", "http://127.0.0.1:9", int(time.time()))
    peer = get_peer(node.db, sender_id)
    assert peer is not None
    receiver = Receiver.of(node.local_node())
    stored = 0
    started = _clocks()
    for first in range(0, len(envelopes), BATCH):
        result = receiver.receive(envelopes[first : first + BATCH], peer)
        stored += len(result.stored) + len(result.quarantined)
    elapsed = _since(started)
    assert stored == len(envelopes), stored
    return elapsed


def index_round(node: Node, searches: list[str]) -> Seconds:
    sql = "SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT 20"
    started = _clocks()
    for query in searches:
        node.db.execute(sql, [match_expression(query)]).fetchall()
    return _since(started)


def api_round(node: Node, searches: list[str]) -> Seconds:
    started = _clocks()
    for query in searches:
        search(node.db, query)
    return _since(started)


def best_rounds(
    one_round: Callable[[Node, list[str]], Seconds], nodes: dict[str, Node], searches: list[str]
) -> dict[str, Seconds]:
    """The best of ``SEARCH_ROUNDS`` rounds on each node (by the wall clock), the nodes
    taking turns."""
    best = {kind: (float("inf"), float("inf")) for kind in nodes}
    for _ in range(SEARCH_ROUNDS):
        for kind, node in nodes.items():
            best[kind] = min(best[kind], one_round(node, searches))
    return best


def measure_writes(
    root: Path, corpus: Path, source: Node, pairs: int
) -> tuple[dict[str, Node], dict[str, dict[str, list[Seconds]]]]:
    """Import and initial sync, ``pairs`` times on each kind of home (fresh homes each
    time), the two kinds taking turns and the first of each pair alternating, so that load
    from elsewhere on the machine falls on both. The last importing node of each kind stays
    open for the searches."""
    envelopes = [bytes(row[0]) for row in source.db.execute("SELECT envelope FROM records")]
    times: dict[str, dict[str, list[Seconds]]] = {
        kind: {"import": [], "sync": []} for kind in KINDS
    }
    importers: dict[str, Node] = {}
    for number in range(pairs):
        order = KINDS if number % 2 == 0 else KINDS[::-1]
        for kind in order:
            importer = make_node(root, f"{kind}-import-{number}", kind == "sealed")
            receiver = make_node(root, f"{kind}-receive-{number}", kind == "sealed")
            try:
                times[kind]["import"].append(import_seconds(importer, corpus))
                times[kind]["sync"].append(receive_seconds(receiver, source.node_id, envelopes))
            finally:
                receiver.close()
            if kind in importers:
                importers[kind].close()
            importers[kind] = importer
    return importers, times


def run(quick: bool = False, pairs: int = 3) -> dict[str, Any]:
    count = 1_000 if quick else 5_000
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-sealed-") as tmp:
        root = Path(tmp)
        corpus = write_corpus(root / "lessons", count)
        source = make_node(root, "source", False)
        import_seconds(source, corpus)
        nodes, times = measure_writes(root, corpus, source, pairs)
        source.close()
        searches = queries(SEARCHES)
        try:
            for key, one_round in (("search", index_round), ("api_search", api_round)):
                best = best_rounds(one_round, nodes, searches)
                for kind in KINDS:
                    times[kind][key] = [best[kind]]
        finally:
            for node in nodes.values():
                node.close()
    rows = [_row(key, label, times) for key, label in MEASURES]
    result = {
        "lessons": count,
        "pairs": pairs,
        "rows": rows,
        "worst_ratio": max(row["ratio"] for row in rows),
        "target_ratio": TARGET_RATIO,
    }
    write_result("sealed", result)
    return result


KINDS = ("unsealed", "sealed")
MEASURES = (
    ("import", "import"),
    ("sync", "initial sync (receiving)"),
    ("search", f"search, index only ({SEARCHES} queries)"),
    ("api_search", f"search as the API does ({SEARCHES} queries)"),
)


def _row(key: str, label: str, times: dict[str, dict[str, list[Seconds]]]) -> dict[str, Any]:
    """Medians of each kind's runs: wall clock (the ratio that counts) and CPU time."""
    wall = {kind: statistics.median(t[0] for t in times[kind][key]) for kind in KINDS}
    cpu = {kind: statistics.median(t[1] for t in times[kind][key]) for kind in KINDS}
    ratio = wall["sealed"] / wall["unsealed"]
    cpu_ratio = cpu["sealed"] / cpu["unsealed"]
    pairs = zip(times["unsealed"][key], times["sealed"][key], strict=True)
    runs = [round(sealed[0] / unsealed[0], 2) for unsealed, sealed in pairs]
    print(f"sealed: {label}: {wall['sealed']:.3f} s sealed, {wall['unsealed']:.3f} s "
          f"unsealed = {ratio:.2f}x (CPU {cpu_ratio:.2f}x; pairs {runs}; "
          f"target {TARGET_RATIO}x)")  # fmt: skip
    return {"measure": label, "unsealed_s": round(wall["unsealed"], 3),
            "sealed_s": round(wall["sealed"], 3), "ratio": round(ratio, 3),
            "cpu_ratio": round(cpu_ratio, 3), "pair_ratios": runs}  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pairs", type=int, help="import and sync runs per kind (3; quick 1)")
    arguments = parser.parse_args()
    run(arguments.quick, arguments.pairs or (1 if arguments.quick else 3))
