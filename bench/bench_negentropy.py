"""Negentropy reconciliation of two large sets that differ in a few items.

Two sets of n items each that share all but d, reconciled by an in-memory
Initiator/Responder pair. The n-sweep keeps d = 10 (5 only on each side) and grows n; the
d-sweep keeps n = 1M (100k with --quick) and tries d = 1, 10, 100 and 1,000 (half, rounded
up, only on the responder's side). Reported per run: round trips, bytes each way, CPU time of
each side's protocol calls only (``time.process_time`` around ``initiate``/``reconcile``, best
of a few runs); for the n-sweep also the time to build a storage (from sorted rows, and by
insert + seal) and memory. Targets from the issue, for n = 1,000,000 and d = 10: at most 3
round trips, under 250 ms of CPU per side, about 20 KB on the wire, and a node serving 1M
records in under 300 MB RSS.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bench.common import write_result
from federation.negentropy import Initiator, Responder, Storage

TARGET_ROUND_TRIPS = 3
TARGET_CPU_SECONDS = 0.250
TARGET_TOTAL_BYTES = 20_000
TARGET_NODE_RSS_MB = 300
ONLY_ON_EACH_SIDE = 5
TARGET_ITEMS = 1_000_000
D_SWEEP = (1, 10, 100, 1_000)
REPEATS = 3
_BASE_TIMESTAMP = 1_700_000_000
_ITEMS_PER_TIMESTAMP = 3  # some records share a second, so bounds need id prefixes
_REPO_ROOT = Path(__file__).resolve().parents[1]

Item = tuple[int, bytes]
T = TypeVar("T")


def sorted_items(positions: int, seed: int, leave_out: frozenset[int]) -> Iterator[Item]:
    """Items in (timestamp, id) order, as ``ORDER BY created, id`` yields them, made on the fly
    so that no list of a million tuples is held; the same seed gives the same items."""
    return (
        item for position, item in _numbered_items(positions, seed) if position not in leave_out
    )


def ids_at(positions: int, seed: int, wanted: frozenset[int]) -> set[bytes]:
    return {id_ for position, (_, id_) in _numbered_items(positions, seed) if position in wanted}


def _numbered_items(positions: int, seed: int) -> Iterator[tuple[int, Item]]:
    rng = random.Random(seed)
    for first in range(0, positions, _ITEMS_PER_TIMESTAMP):
        group = min(_ITEMS_PER_TIMESTAMP, positions - first)
        timestamp = _BASE_TIMESTAMP + first // _ITEMS_PER_TIMESTAMP
        for offset, id_ in enumerate(sorted(rng.randbytes(32) for _ in range(group))):
            yield first + offset, (timestamp, id_)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.process_time()
    value = call()
    return value, time.process_time() - started


def reconcile(ours: Storage, theirs: Storage) -> dict[str, Any]:
    """One session; CPU is counted only inside each side's protocol calls."""
    initiator, responder = Initiator(ours), Responder(theirs)
    first_message, cpu_initiator = timed(initiator.initiate)
    message: bytes | None = first_message
    cpu_responder = 0.0
    round_trips, sent, received = 0, len(first_message), 0
    have: list[bytes] = []
    need: list[bytes] = []
    while message is not None:
        answer, seconds = timed(partial(responder.reconcile, message))
        cpu_responder += seconds
        round_trips, received = round_trips + 1, received + len(answer)
        (message, new_have, new_need), seconds = timed(partial(initiator.reconcile, answer))
        cpu_initiator += seconds
        sent += len(message or b"")
        have, need = have + new_have, need + new_need
    return {
        "round_trips": round_trips,
        "bytes_initiator_to_responder": sent,
        "bytes_responder_to_initiator": received,
        "cpu_initiator_s": cpu_initiator,
        "cpu_responder_s": cpu_responder,
        "have": have,
        "need": need,
    }


def best_of_runs(ours: Storage, theirs: Storage) -> dict[str, Any]:
    runs = [reconcile(ours, theirs) for _ in range(REPEATS)]
    best = dict(runs[0])
    for side in ("cpu_initiator_s", "cpu_responder_s"):
        best[side] = min(run[side] for run in runs)
    return best


def single_node_peak_rss_mb(size: int) -> float:
    """Peak RSS of a fresh process that builds one storage of ``size`` items and answers a
    session's first message: what serving that many records costs a node."""
    code = (
        "from bench.bench_negentropy import *; "
        f"s = Storage.from_sorted(sorted_items({size}, 1, frozenset())); "
        "Responder(s).reconcile(Initiator(s).initiate()); "
        "print(peak_rss_mb())"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=_REPO_ROOT
    ).stdout
    return float(output)


def peak_rss_mb() -> float:
    """This process's own high-water RSS. Not ``ru_maxrss``: Linux carries that over from
    the parent across fork and exec, so a child would report the parent's size."""
    return _status_field_kb("VmHWM") / 1024


def _current_rss_mb() -> float:
    return _status_field_kb("VmRSS") / 1024


def _status_field_kb(name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{name} missing from /proc/self/status")


def measure(
    size: int, differences: int = 2 * ONLY_ON_EACH_SIDE, extras: bool = True
) -> dict[str, Any]:
    """One reconciliation of ``size`` items per side, ``differences`` of them on one side only
    (half, rounded down, on the initiator's side); ``extras`` adds build times and memory."""
    only_ours_count = differences // 2
    only_theirs_count = differences - only_ours_count
    positions = size + only_theirs_count
    chosen = random.Random(size + differences).sample(range(positions), differences)
    only_ours = frozenset(chosen[:only_ours_count])
    only_theirs = frozenset(chosen[only_ours_count:])
    ours, build_seconds = timed(
        lambda: Storage.from_sorted(sorted_items(positions, size, only_theirs))
    )
    theirs = Storage.from_sorted(sorted_items(positions, size, only_ours))
    rss_both_mb = _current_rss_mb()
    session = best_of_runs(ours, theirs)
    assert set(session.pop("have")) == ids_at(positions, size, only_ours)
    assert set(session.pop("need")) == ids_at(positions, size, only_theirs)
    total_bytes = session["bytes_initiator_to_responder"] + session["bytes_responder_to_initiator"]
    row = {"items": size, "differences": differences, **session, "total_bytes": total_bytes}
    if extras:
        _, seal_seconds = timed(
            lambda: _insert_and_seal(sorted_items(positions, size, only_theirs))
        )
        row |= {
            "build_from_sorted_s": build_seconds,
            "insert_and_seal_s": seal_seconds,
            "storage_mb": ours.nbytes / 2**20,
            "rss_with_both_sides_mb": rss_both_mb,
            "single_node_peak_rss_mb": single_node_peak_rss_mb(size),
        }
    return {
        name: round(value, 6) if isinstance(value, float) else value for name, value in row.items()
    }


def _insert_and_seal(items: Iterator[Item]) -> Storage:
    storage = Storage()
    for timestamp, id_ in items:
        storage.insert(timestamp, id_)
    storage.seal()
    return storage


def ratios(row: dict[str, Any]) -> dict[str, float]:
    """Measured / target: below 1.0 meets the target."""
    worst_cpu = max(row["cpu_initiator_s"], row["cpu_responder_s"])
    return {
        "round_trips": row["round_trips"] / TARGET_ROUND_TRIPS,
        "cpu_per_side": worst_cpu / TARGET_CPU_SECONDS,
        "total_bytes": row["total_bytes"] / TARGET_TOTAL_BYTES,
        "node_rss": row["single_node_peak_rss_mb"] / TARGET_NODE_RSS_MB,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'items':>9} {'rtt':>3} {'I->R B':>7} {'R->I B':>7} {'cpu I ms':>8} {'cpu R ms':>8} "
        f"{'build s':>7} {'seal s':>6} {'store MB':>8} {'node RSS MB':>11}"
    )
    for row in rows:
        print(
            f"{row['items']:>9,} {row['round_trips']:>3} "
            f"{row['bytes_initiator_to_responder']:>7,} "
            f"{row['bytes_responder_to_initiator']:>7,} "
            f"{row['cpu_initiator_s'] * 1000:>8.1f} {row['cpu_responder_s'] * 1000:>8.1f} "
            f"{row['build_from_sorted_s']:>7.2f} {row['insert_and_seal_s']:>6.2f} "
            f"{row['storage_mb']:>8.1f} {row['single_node_peak_rss_mb']:>11.1f}"
        )
    largest = rows[-1]
    print(
        f"ratio to target at {largest['items']:,} items (below 1.0 meets it): "
        + ", ".join(f"{name} {value:.2f}" for name, value in ratios(largest).items())
    )


def print_d_sweep(rows: list[dict[str, Any]]) -> None:
    print(f"d-sweep at {rows[0]['items']:,} items:")
    print(f"{'d':>6} {'rtt':>3} {'I->R B':>8} {'R->I B':>8} {'cpu I ms':>8} {'cpu R ms':>8}")
    for row in rows:
        print(
            f"{row['differences']:>6,} {row['round_trips']:>3} "
            f"{row['bytes_initiator_to_responder']:>8,} "
            f"{row['bytes_responder_to_initiator']:>8,} "
            f"{row['cpu_initiator_s'] * 1000:>8.1f} {row['cpu_responder_s'] * 1000:>8.1f}"
        )


def run(quick: bool = False) -> dict[str, Any]:
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    rows = [measure(size) for size in sizes]
    print_table(rows)
    d_items = sizes[-1]
    d_rows = [measure(d_items, differences, extras=False) for differences in D_SWEEP]
    print_d_sweep(d_rows)
    result = {
        "only_on_each_side": ONLY_ON_EACH_SIDE,
        "targets": {
            "items": TARGET_ITEMS,
            "differences": 2 * ONLY_ON_EACH_SIDE,
            "round_trips": TARGET_ROUND_TRIPS,
            "cpu_per_side_s": TARGET_CPU_SECONDS,
            "total_bytes": TARGET_TOTAL_BYTES,
            "node_rss_mb": TARGET_NODE_RSS_MB,
        },
        "results": rows,
        "ratios_at_largest": ratios(rows[-1]),
        "target_size_measured": rows[-1]["items"] >= TARGET_ITEMS,
        "d_sweep": {"items": d_items, "results": d_rows},
        "bench_process_peak_rss_mb": peak_rss_mb(),
    }
    print(f"wrote {write_result('negentropy', result)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only up to 100k items")
    run(parser.parse_args().quick)
