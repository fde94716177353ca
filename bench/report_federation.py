"""The report's section for ``bench_federation``: a node serving peers' syncs stays calm.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, Verdict, table

MILLION = 1_000_000


def _latency_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for size in sizes:
        for phase in size["first_syncs"]:
            health, page = phase["latency"]["healthz"], phase["latency"]["lessons"]
            rows.append([
                f"{size['lessons']:,}", phase["peers"], phase["seconds"],
                health.get("p50_ms"), health.get("p99_ms"), health.get("max_ms"),
                page.get("p50_ms"), page.get("p99_ms"), page.get("max_ms"), phase["peak_rss_mb"],
            ])  # fmt: skip
    return rows


def _round_rows(sizes: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for size in sizes:
        for number, found in enumerate(size["in_sync_rounds"], 1):
            rows.append([f"{size['lessons']:,}", number, found["server_cpu_s"],
                         found["peer_cpu_s"], found["wall_s"]])  # fmt: skip
    return rows


def _steady_round_cpu(size: dict[str, Any]) -> float:
    """The costlier side of the rounds after the first (which builds the kept sets)."""
    later = size["in_sync_rounds"][1:] or size["in_sync_rounds"]
    return max(max(r["server_cpu_s"], r["peer_cpu_s"]) for r in later)


def federation_verdicts(data: dict[str, Any]) -> list[Verdict]:
    targets, sizes = data["targets"], data["sizes"]
    largest = max(sizes, key=lambda size: size["lessons"])
    at_million = largest["lessons"] >= MILLION
    busiest = max(largest["first_syncs"], key=lambda phase: phase["peers"])
    p99 = max(busiest["latency"][name]["p99_ms"] for name in ("healthz", "lessons"))
    gap = max(busiest["latency"][name]["max_ms"] for name in ("healthz", "lessons"))
    rss = max(phase["peak_rss_mb"] for size in sizes for phase in size["first_syncs"])
    initial = data["initial_sync"]
    where = f"{largest['lessons']:,} lessons, {busiest['peers']} peers"
    return [
        Verdict(
            f"`/healthz` and a list page p99 ≤ {targets['p99_ms']:.0f} ms while 8 peers "
            "first-sync a 1M archive", p99 / targets["p99_ms"], at_million,
            f"p99 {p99:.0f} ms at {where} (the prober, the peers and the server share 2 busy "
            "cores: see the notes).",
        ),
        Verdict(
            f"no answer slower than {targets['max_gap_ms']:.0f} ms (no loop stall) then",
            gap / targets["max_gap_ms"], at_million, f"slowest answer {gap:.0f} ms at {where}.",
        ),
        Verdict(
            f"peak RSS ≤ {targets['peak_rss_mb']:.0f} MB", rss / targets["peak_rss_mb"],
            at_million, f"peak {rss:.0f} MB.",
        ),
        Verdict(
            f"a sync round of a peer already in sync ≤ {targets['in_sync_round_cpu_s']:.0f} s "
            "CPU each side at 1M", _steady_round_cpu(largest) / targets["in_sync_round_cpu_s"],
            at_million, "",
        ),
        Verdict(
            f"initial sync of 20k ≤ {targets['initial_ratio']}× the bare floor",
            initial["ratio"] / targets["initial_ratio"], initial["lessons"] >= 20_000,
            f"{initial['sync_s']} s against a floor of {initial['bare_floor_s']} s"
            + (f" (the median of {len(initial['runs'])} runs)." if initial.get("runs") else "."),
        ),
        Verdict(
            f"initial sync of 1M ≤ {targets['million_minutes']:.0f} minutes (extrapolated)",
            initial["million_minutes_extrapolated"] / targets["million_minutes"], True,
            f"about {initial['million_minutes_extrapolated']} minutes at the 20k rate of "
            f"{initial['lessons_per_s']:,} lessons/s (storing is per record: linear).",
        ),
    ]  # fmt: skip


def federation_section(data: dict[str, Any]) -> Section:
    sizes = data["sizes"]
    latency = table(
        ["lessons", "peers", "s", "healthz p50", "p99", "max", "list p50", "p99", "max",
         "peak RSS MB"],
        _latency_rows(sizes),
    )  # fmt: skip
    rounds = table(["lessons", "round", "server CPU s", "peer CPU s", "wall s"], _round_rows(sizes))
    initial = data["initial_sync"]
    runs = [[f"{initial['lessons']:,}", f"run {number}", run["sync_s"], run["bare_floor_s"],
             run["ratio"], "", ""] for number, run in enumerate(initial.get("runs", []), 1)]
    first = table(
        ["lessons", "", "sync s", "bare floor s", "sync/floor", "lessons/s", "1M, extrapolated"],
        [*runs, [f"{initial['lessons']:,}", "median" if runs else "", initial["sync_s"],
                 initial["bare_floor_s"], initial["ratio"], initial["lessons_per_s"],
                 f"{initial['million_minutes_extrapolated']} min"]],
    )  # fmt: skip
    return Section(
        "Federation under load",
        "A node serving `rhizome serve` while 1, 4 and 8 peers run their first sync against "
        "it at once (`python -m bench.bench_federation --size N`): the latency of `/healthz` "
        "and of a page of `/api/v1/lessons` (ms, asked every 50 ms), and the node's peak RSS; "
        "then the CPU of each side for full sync rounds of a peer already in sync (round 1 "
        "builds the kept offer sets, later rounds reuse them); then a real initial sync of "
        "20k lessons against the bare floor (verify + insert + FTS index in one process).",
        [latency, rounds, first],
        federation_verdicts(data),
    )
