"""The report's section and plot for ``bench_reads``: list pages, the home page, search and
the consent-expiry check against archive size, before and after issue 13.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import Section, Verdict, table

LARGEST = 1_000_000  # the page, home and expiry targets are set at a million lessons
READS = (
    ("list_first", "list, first page"),
    ("list_middle", "list, middle page"),
    ("list_last", "list, last page"),
    ("home", "home page"),
    ("expiry", "expiry check"),
)


def reads_section(data: dict[str, Any]) -> Section:
    rows = data["results"]
    targets = data["targets"]
    headers = ["lessons", *(label + " ms (before)" for _, label in READS),
               "search p95 ms (before)", "migration s"]  # fmt: skip
    lines = [
        [row["lessons"],
         *(f"{row['after'][key]['wall_ms']:.1f} ({row['before'][key]['wall_ms']:,.0f})"
           for key, _ in READS),
         f"{row['after']['search']['p95_wall_ms']:.0f} "
         f"({row['before']['search']['p95_wall_ms']:,.0f})",
         row["migration_s"]]
        for row in rows
    ]  # fmt: skip
    cpu_lines = [
        [row["lessons"], *(row["after"][key]["cpu_ms"] for key, _ in READS),
         row["after"]["search"]["p95_cpu_ms"]]
        for row in rows
    ]  # fmt: skip
    cpu_headers = ["lessons", *(label + " CPU ms" for _, label in READS), "search p95 CPU ms"]
    largest = rows[-1]
    judged = largest["lessons"] >= LARGEST
    slowest_page = max(largest["after"][key]["cpu_ms"] for key, _ in READS[:4])
    busy = (
        "Judged on CPU time: on this shared machine a read waits for a core several times "
        "longer than it computes, and the wall times in the first table measure that queue."
    )
    verdicts = [
        Verdict(
            f"any page of the lesson list and the home page within {targets['page_ms']:.0f} ms "
            "at 1M lessons",
            slowest_page / targets["page_ms"],
            judged,
            f"the slowest took {slowest_page:.1f} ms of CPU. {busy}",
        ),
        Verdict(
            f"the consent-expiry check within {targets['expiry_ms']:.0f} ms at 1M lessons",
            largest["after"]["expiry"]["cpu_ms"] / targets["expiry_ms"],
            judged,
        ),
    ]
    # The search targets are judged in the Search section (bench_search), which measures
    # 100k and 1M side by side with the read path's archives; this table keeps the before and
    # after of the search window.
    return Section(
        "Reads at scale",
        "Each archive (every 40th lesson a new version hiding the one before, 0.2% in quarantine, "
        "1% with a consent expiry; 250-word lessons from the search benchmark's generator, the "
        "1M archive ten copies of the 100k one made in SQL) is measured twice on the same "
        "file: **before**, the queries as they were (a `NOT EXISTS` over versions and a count "
        "of the whole list on every page, `OFFSET` paging, the quarantine counted by reading "
        "every record, the expiry check reading every consent block, bm25 over every match); "
        "then the file is opened as a node opens it (the migrations m014–m016 run, timed in "
        "the last column) and measured **after**: keyset pages over the partial index "
        "`records_listed`, maintained counts, `home_overview`, the bounded search window "
        f"({data['ranked_window']:,} newest matches) and the indexed `expires_at`. Each "
        f"figure is the median of five calls ({data['searches']} searches for the p95), as "
        "wall time on the shared two-core machine (before in brackets); the second table is "
        "the CPU time of the same calls after the change, which the targets are judged on.",
        [table(headers, lines), table(cpu_headers, cpu_lines)],
        verdicts,
        [("reads.png", "Reads against archive size, before (dashed) and after (solid).")],
    )


def reads_plot(data: dict[str, Any], folder: Path, plt: Any, finish: Any) -> None:
    """Before and after, one line each, against archive size (log-log)."""
    rows = data["results"]
    xs = [row["lessons"] for row in rows]
    figure, axis = plt.subplots(figsize=(8, 4))
    for (key, label), colour in zip(
        (*READS, ("search", "search p95")),
        ("tab:blue", "tab:cyan", "tab:purple", "tab:green", "tab:orange", "tab:red"),
        strict=True,
    ):
        field = "p95_wall_ms" if key == "search" else "wall_ms"
        axis.plot(xs, [row["after"][key][field] for row in rows], "o-", color=colour, label=label)
        axis.plot(xs, [row["before"][key][field] for row in rows], "x--", color=colour)
    axis.axhline(data["targets"]["page_ms"], color="black", linestyle=":", linewidth=1,
                 label="30 ms (page target)")  # fmt: skip
    axis.set(xlabel="lessons in the archive", ylabel="ms (log)", xscale="log", yscale="log")
    axis.set_xticks(xs, [f"{x // 1000:,}k" if x < 1_000_000 else "1M" for x in xs])
    axis.legend(fontsize=7, ncol=2)
    finish(figure, "reads.png")
