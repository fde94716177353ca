"""The report's section and plot for ``bench_search``: search latency against archive size,
judged at 100k and 1M lessons (issue 13).

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
Results written before the 1M target (one target, wall time only) still render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import Section, Verdict, table


def targets_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """[{lessons, p95_ms}] for either shape of result."""
    return list(data.get("targets") or [data["target"]])


def p95_judged(row: dict[str, Any]) -> float:
    """The p95 a target is judged on: CPU time when measured, else wall time."""
    return float(row.get("p95_cpu_ms", row["p95_ms"]))


def search_section(data: dict[str, Any]) -> Section:
    rows = data["results"]
    on_cpu = all("p95_cpu_ms" in row for row in rows)
    if on_cpu:
        headers = ["lessons", "p50 CPU ms", "p95 CPU ms", "p95 CPU ms, each round",
                   "p95 wall ms", "max wall ms", "mean hits"]  # fmt: skip
        lines = [
            [row["lessons"], row["p50_cpu_ms"], row["p95_cpu_ms"],
             " / ".join(f"{value:.1f}" for value in row["p95_cpu_ms_rounds"]),
             row["p95_ms"], row["max_ms"], row["mean_hits"]]
            for row in rows
        ]  # fmt: skip
    else:
        headers = ["lessons", "p50 ms", "p95 ms", "max ms", "mean hits"]
        lines = [
            [row["lessons"], row["p50_ms"], row["p95_ms"], row["max_ms"], row["mean_hits"]]
            for row in rows
        ]
    verdicts = []
    for target in targets_of(data):
        row = next((row for row in rows if row["lessons"] == target["lessons"]), None)
        measured = p95_judged(row) if row else None
        verdicts.append(
            Verdict(
                f"p95 within {target['p95_ms']:.0f} ms at {target['lessons']:,} lessons (mixed "
                "common and rare words)",
                None if measured is None else measured / target["p95_ms"],
                row is not None,
                data.get("notes") or f"p95 was {measured} ms.",
            )
        )
    largest = rows[-1]
    slow = "; ".join(
        f"{item['query']!r}: {item['ms']:.0f} ms, {item['matches']:,} matches"
        for item in largest.get("slowest", [])[:3]
    )
    rounds = rows[0].get("rounds", 1)
    how = (
        f"Every size is searched in turn in one process, {rounds} rounds over; each row is the "
        "round with the median CPU p95, and the targets are judged on CPU time (the searching "
        "thread's): on this shared two-core machine a search also waits for a core, which the "
        "wall times include."
        if on_cpu
        else ""
    )
    return Section(
        "Search",
        f"{rows[0]['searches']} searches of 1–3 words (a fixed seeded list, about "
        f"{data.get('everyday_share', 0.3):.0%} of the words everyday ones most lessons share) "
        "through `archive.search.search`, 20 ranked hits with snippets, on generated archives of "
        f"~{data.get('words_per_lesson', '?')}-word lessons (a {data.get('vocabulary', '?'):,}-"
        "word vocabulary on a Zipf curve"
        + (
            "; the read benchmarks' archives, bench/read_archive.py: every 40th lesson a new "
            "version, 0.2% in quarantine, the 1M archive ten SQL copies of the 100k one). "
            if on_cpu
            else "). "
        )
        + how,
        [table(headers, lines)],
        verdicts,
        [("search.png", "Search latency (p50, p95, max) against archive size.")],
        f"Slowest searches at {largest['lessons']:,} lessons: {slow}." if slow else "",
    )


def search_plot(data: dict[str, Any], folder: Path, plt: Any, finish: Any) -> None:
    """p50, p95 and max against archive size (log-log), the targets as red marks."""
    rows = data["results"]
    xs = [row["lessons"] for row in rows]
    on_cpu = all("p95_cpu_ms" in row for row in rows)
    figure, axis = plt.subplots(figsize=(5.5, 3.4))
    lines = (
        (("p50_cpu_ms", "o-", "p50 (CPU)"), ("p95_cpu_ms", "s-", "p95 (CPU)"),
         ("p95_ms", "s:", "p95 (wall)"), ("max_ms", "^:", "max (wall)"))
        if on_cpu
        else (("p50_ms", "o-", "p50"), ("p95_ms", "s-", "p95"), ("max_ms", "^:", "max"))
    )  # fmt: skip
    for key, style, label in lines:
        axis.plot(xs, [row[key] for row in rows], style, label=label)
    for target in targets_of(data):
        axis.plot([target["lessons"]], [target["p95_ms"]], "rv", markersize=8)
    axis.plot([], [], "rv", label="target p95")
    axis.set(xlabel="lessons in the archive", ylabel="ms (log)", xscale="log", yscale="log")
    ticks = sorted({*xs, *(target["lessons"] for target in targets_of(data))})
    axis.set_xticks(ticks, [f"{x // 1000:,}k" if x < 1_000_000 else "1M" for x in ticks])
    axis.minorticks_off()
    axis.legend(fontsize=7)
    finish(figure, "search.png")
