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


def import_seconds(node: Node, corpus: Path) -> float:
    started = time.perf_counter()
    report = import_folder(node, corpus)
    elapsed = time.perf_counter() - started
    assert not report.rejected, report.rejected[:3]
    return elapsed


def receive_seconds(node: Node, sender_id: str, envelopes: list[bytes]) -> float:
    save_peer(node.db, sender_id, "source", "Lab", "http://127.0.0.1:9", int(time.time()))
    peer = get_peer(node.db, sender_id)
    assert peer is not None
    receiver = Receiver.of(node.local_node())
    stored = 0
    started = time.perf_counter()
    for first in range(0, len(envelopes), BATCH):
        result = receiver.receive(envelopes[first : first + BATCH], peer)
        stored += len(result.stored) + len(result.quarantined)
    elapsed = time.perf_counter() - started
    assert stored == len(envelopes), stored
    return elapsed


def index_round(node: Node, searches: list[str]) -> float:
    sql = "SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT 20"
    started = time.perf_counter()
    for query in searches:
        node.db.execute(sql, [match_expression(query)]).fetchall()
    return time.perf_counter() - started


def api_round(node: Node, searches: list[str]) -> float:
    started = time.perf_counter()
    for query in searches:
        search(node.db, query)
    return time.perf_counter() - started


def best_rounds(
    one_round: Callable[[Node, list[str]], float], nodes: dict[str, Node], searches: list[str]
) -> dict[str, float]:
    """The best of ``SEARCH_ROUNDS`` rounds on each node, the nodes taking turns."""
    best = {kind: float("inf") for kind in nodes}
    for _ in range(SEARCH_ROUNDS):
        for kind, node in nodes.items():
            best[kind] = min(best[kind], one_round(node, searches))
    return best


def measure_writes(
    root: Path, sealed: bool, corpus: Path, source: Node
) -> tuple[Node, dict[str, float]]:
    """Import and initial sync on fresh homes; the importing node stays open (searches)."""
    kind = "sealed" if sealed else "unsealed"
    importer = make_node(root, f"{kind}-import", sealed)
    receiver = make_node(root, f"{kind}-receive", sealed)
    envelopes = [bytes(row[0]) for row in source.db.execute("SELECT envelope FROM records")]
    try:
        times = {
            "import_s": import_seconds(importer, corpus),
            "sync_s": receive_seconds(receiver, source.node_id, envelopes),
        }
    finally:
        receiver.close()
    return importer, times


def run(quick: bool = False) -> dict[str, Any]:
    count = 1_000 if quick else 5_000
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-sealed-") as tmp:
        root = Path(tmp)
        corpus = write_corpus(root / "lessons", count)
        source = make_node(root, "source", False)
        import_seconds(source, corpus)
        plain_node, unsealed = measure_writes(root, False, corpus, source)
        sealed_node, sealed = measure_writes(root, True, corpus, source)
        source.close()
        nodes = {"unsealed": plain_node, "sealed": sealed_node}
        searches = queries(SEARCHES)
        try:
            for key, one_round in (("search_s", index_round), ("api_search_s", api_round)):
                best = best_rounds(one_round, nodes, searches)
                unsealed[key], sealed[key] = best["unsealed"], best["sealed"]
        finally:
            plain_node.close()
            sealed_node.close()
    rows = []
    measures = (
        ("import_s", "import"),
        ("sync_s", "initial sync (receiving)"),
        ("search_s", f"search, index only ({SEARCHES} queries)"),
        ("api_search_s", f"search as the API does ({SEARCHES} queries)"),
    )
    for key, label in measures:
        ratio = sealed[key] / unsealed[key]
        rows.append({"measure": label, "unsealed_s": round(unsealed[key], 3),
                     "sealed_s": round(sealed[key], 3), "ratio": round(ratio, 3)})  # fmt: skip
        print(f"sealed: {label}: {sealed[key]:.3f} s sealed, {unsealed[key]:.3f} s unsealed "
              f"= {ratio:.2f}x (target {TARGET_RATIO}x)")  # fmt: skip
    result = {
        "lessons": count,
        "rows": rows,
        "worst_ratio": max(row["ratio"] for row in rows),
        "target_ratio": TARGET_RATIO,
    }
    write_result("sealed", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
