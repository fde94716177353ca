"""Write docs/benchmarks.md, and its plots in docs/benchmarks/, from bench/results/*.json.

``python -m bench.report`` (``python -m bench`` runs it after the benchmarks). Every section
has a table, the target, the measured/target ratio and, where a target is missed, by how much
and why: the benchmark's own ``notes`` when it wrote them, otherwise a sentence computed here.
Plots need matplotlib (``pip install -e .[bench]``); without it the tables are still written.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import RESULTS

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = ROOT / "docs" / "benchmarks.md"
PLOTS = ROOT / "docs" / "benchmarks"
RUN = "run"  # bench/results/run.json: which run wrote the results, and how long it took
ORDER = (
    "import", "sync", "tls", "bundle", "negentropy", "revocation", "search", "memory", "wipe",
    "attachments",
    "reads",
    "sealed",
)  # fmt: skip
Results = dict[str, dict[str, Any]]


def load_results(folder: Path = RESULTS) -> Results:
    """Every ``NAME.json`` in ``folder``, by NAME."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


# -- formatting ---------------------------------------------------------------------------


def number(value: Any, digits: int = 2) -> str:
    """1,234 for integers, 0.12 or 12.3 for floats (three significant digits at most)."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(number(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_text(machine: dict[str, Any]) -> str:
    return (
        f"Python {machine.get('python', '?')} on {machine.get('platform', '?')} "
        f"({machine.get('processor', '?')}, {machine.get('cpus', '?')} CPUs)"
    )


@dataclass
class Verdict:
    """One target: what it is, the ratio measured/target (or target/measured where more is
    better, so that 1.0 or below always meets it), and why it was missed."""

    target: str
    ratio: float | None
    judged: bool = True  # False: the run did not reach the size the target is set at
    why: str = ""

    @property
    def met(self) -> bool:
        return self.ratio is not None and self.ratio <= 1.0

    def text(self) -> str:
        if self.ratio is None:
            return f"**Target:** {self.target}. Not measured in this run."
        ratio = f"measured/target = **{self.ratio:.2f}**"
        if not self.judged:
            return (
                f"**Target:** {self.target}. This run did not reach that size (a quick run?); "
                f"at the largest size measured, {ratio}. Run `python -m bench` to judge it."
            )
        if self.met:
            return f"**Target:** {self.target}: met, {ratio}."
        return f"**Target:** {self.target}: **missed**, {ratio}. {self.why}".rstrip()


@dataclass
class Section:
    title: str
    intro: str
    tables: list[str]
    verdicts: list[Verdict] = field(default_factory=list)
    plots: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    extra: str = ""


# -- one section per benchmark ------------------------------------------------------------


def import_section(data: dict[str, Any]) -> Section:
    rate, target = data["import_per_second"], data["target_per_second"]
    rows = [
        [
            data["lessons"],
            data["import_seconds"],
            rate,
            data["bare_per_second"],
            data["import_vs_bare"],
        ]
    ]
    ratio = target / rate if rate else math.inf
    bare = data["bare_per_second"]
    why = (
        f"It imported {rate:,} lessons a second, {target - rate:,} short of {target:,}. Per "
        f"lesson, import takes {bare / rate:.2f}x the time of the bare parse+sign+insert limit "
        f"measured in the same run ({bare:,}/s): the event log entry, savepoint, duplicate "
        "and version checks. "
        + (
            f"On this machine the bare limit itself is only {bare / target:.2f}x the target, "
            f"so the target leaves room for {bare / target:.2f}x."
            if bare >= target
            else "On this machine even the bare limit is below the target."
        )
    )
    return Section(
        "Import",
        "`rhizome lesson import` of a folder of ~2 KB lesson files, against the bare limit "
        "(parse, sign, insert in one transaction, nothing else) measured in the same run.",
        [table(["lessons", "seconds", "lessons/s", "bare limit/s", "import/bare"], rows)],
        [Verdict(f"at least {target:,} lessons per second", ratio, True, why)],
    )


def sync_section(data: dict[str, Any]) -> Section:
    headers = ["lessons", "MB", "sync s", "bare s", "sync/bare"]
    row = [data["lessons"], data["megabytes"], data["sync_seconds"], data["bare_seconds"]]
    row.append(data["sync_over_bare"])
    if "git_clone_seconds" in data:
        headers += ["git clone s", "sync/git clone"]
        row += [data["git_clone_seconds"], data["sync_over_git_clone"]]
    if "receive_only_seconds" in data:
        headers.insert(4, "receive only s")
        row.insert(4, data["receive_only_seconds"])
    ratio = data["sync_over_bare"] / data["target_ratio"]
    why = data.get("notes") or (
        f"Sync took {data['sync_over_bare']:.2f}x the bare decode+verify+insert time. The "
        "difference is what sync does that the bare limit leaves out: HTTP and request "
        "signatures per batch of 250, the outbound decision for every record on the "
        "serving side, the inbound decision, decision log, delivery ledger and event log entry "
        "per record on the receiving side."
    )
    extra = ""
    if "git_clone_seconds" in data:
        extra = (
            f"For comparison, `git clone --no-local` of the same lessons as Markdown files "
            f"({data.get('git_pack_megabytes', '?')} MB packed) took "
            f"{data['git_clone_seconds']:.2f} s: sync took "
            f"**{data['sync_over_git_clone']:.2f}x** as long as a clone, which verifies no "
            "signature and decides nothing per lesson."
        )
    return Section(
        "Initial sync",
        "Node B pairs with node A (`rhizome serve` in its own process, loopback) and runs one "
        "sync of every lesson; the bare limit decodes, verifies and inserts the same envelopes "
        "in one transaction in one process; *receive only* stores them as sync does "
        "(`Receiver.receive`, batches of 250) without HTTP or a server.",
        [table(headers, [row])],
        [Verdict(f"within {data['target_ratio']}x the bare limit", ratio, True, why)],
        [("sync.png", "Seconds for the same lessons: bare limit, sync, git clone.")],
        extra,
    )


def bundle_section(data: dict[str, Any]) -> Section:
    rows = [
        [
            data["records"],
            data["bundle_megabytes"],
            data["export_mb_per_second"],
            data["import_mb_per_second"],
            data["import_over_bare"],
        ]
    ]
    return Section(
        "Offline bundle",
        "Export of every record for a peer, and import there; import against the bare "
        "decode+verify+insert limit on the same records. No target in the issue.",
        [table(["records", "MB", "export MB/s", "import MB/s", "import/bare"], rows)],
    )


def negentropy_section(data: dict[str, Any]) -> Section:
    targets = data["targets"]
    rows = [
        [
            row["items"],
            row["round_trips"],
            row["total_bytes"],
            row["cpu_initiator_s"] * 1000,
            row["cpu_responder_s"] * 1000,
            row.get("build_from_sorted_s"),
            row.get("single_node_peak_rss_mb"),
        ]
        for row in data["results"]
    ]
    headers = ["n", "round trips", "bytes", "CPU I ms", "CPU R ms", "build s", "RSS MB"]
    tables = [
        f"d = {targets.get('differences', 10)} differences, n growing:\n\n" + table(headers, rows)
    ]
    if "d_sweep" in data:
        sweep = data["d_sweep"]
        d_rows = [
            [
                row["differences"],
                row["round_trips"],
                row["bytes_initiator_to_responder"],
                row["bytes_responder_to_initiator"],
                row["cpu_initiator_s"] * 1000,
                row["cpu_responder_s"] * 1000,
            ]
            for row in sweep["results"]
        ]
        tables.append(
            f"n = {sweep['items']:,} items, d growing:\n\n"
            + table(["d", "round trips", "bytes I→R", "bytes R→I", "CPU I ms", "CPU R ms"], d_rows)
        )
    largest = data["results"][-1]
    judged = bool(data.get("target_size_measured", largest["items"] >= 1_000_000))
    at = f"for {targets.get('differences', 10)} differences on {largest['items']:,} items"
    cpu = max(largest["cpu_initiator_s"], largest["cpu_responder_s"])
    verdicts = [
        Verdict(
            f"at most {targets['round_trips']} round trips",
            largest["round_trips"] / targets["round_trips"],
            judged,
            f"{largest['round_trips']} round trips {at}.",
        ),
        Verdict(
            f"at most {targets['total_bytes'] / 1000:.0f} KB on the wire",
            largest["total_bytes"] / targets["total_bytes"],
            judged,
            f"{largest['total_bytes']:,} bytes {at}.",
        ),
        Verdict(
            f"at most {targets['cpu_per_side_s'] * 1000:.0f} ms of CPU per side",
            cpu / targets["cpu_per_side_s"],
            judged,
            f"{cpu * 1000:.0f} ms on the busier side {at}.",
        ),
    ]
    return Section(
        "Reconciliation (Negentropy)",
        "Two in-memory sets of n items that differ in d, reconciled by an Initiator and a "
        "Responder; CPU is `process_time` inside each side's protocol calls (best of three), "
        "bytes are the messages' sizes. RSS is a fresh process holding one storage of n items; "
        "a whole node is measured under *Memory* below.",
        tables,
        verdicts,
        [
            ("negentropy_n.png", "CPU per side and bytes on the wire against n (d = 10)."),
            ("negentropy_d.png", "CPU per side and bytes on the wire against d."),
        ],
    )


def revocation_section(data: dict[str, Any]) -> Section:
    runs = data["runs"]
    rows = [
        [
            run["nodes"],
            run["links"],
            run["seconds_to_last_receipt"],
            run["target_seconds"],
            run["messages"],
            run["messages_per_node"],
            run["copies_left"],
        ]
        for run in runs
    ]
    headers = ["nodes", "links", "s to last receipt", "target s", "messages", "per holder", "left"]
    verdicts = []
    measured = {run["nodes"]: run for run in runs}
    for nodes, target in ((12, 1.0), (50, 2.0)):
        run = measured.get(nodes)
        if run is None:
            verdicts.append(Verdict(f"{nodes} nodes within {target:.0f} s", None))
            continue
        seconds = run["seconds_to_last_receipt"]
        why = (
            f"The last receipt came {seconds:.2f} s after the revocation, {seconds - target:.2f} s "
            f"late, with {run['messages']} messages ({run['messages_per_node']} per holder)."
        )
        verdicts.append(
            Verdict(f"{nodes} nodes within {target:.0f} s", seconds / target, True, why)
        )
    left = [run for run in runs if run["copies_left"]]
    extra = (
        "**Copies left after revocation:** "
        + ", ".join(f"{run['copies_left']} of {run['nodes']} nodes" for run in left)
        if left
        else "Every copy was purged in every run."
    )
    return Section(
        "Revocation",
        "N nodes, each a `rhizome serve` process on loopback, linked as a ring plus chords; "
        "a lesson that may be reshared reaches every node, then its origin revokes it. Time is "
        "from the revocation to the last purge receipt back at the origin; messages are the "
        "revocation, receipt and outbox requests served by all nodes.",
        [table(headers, rows)],
        verdicts,
        [("revocation.png", "Time to the last receipt and messages against network size.")],
        extra,
    )


def memory_section(data: dict[str, Any]) -> Section:
    phases = ("startup", "list_and_search", "first_reconcile", "second_reconcile")
    rows = []
    for row in data["results"]:
        by_phase = row["phase_peak_rss_mb"]
        rows.append(
            [
                row["lessons"],
                row["peak_rss_mb"],
                *(by_phase.get(phase) for phase in phases),
                row["first_reconcile"]["first_round_trip_s"],
                row["list_ms"],
                row["search_ms"],
            ]
        )
    headers = [
        "lessons",
        "peak MB",
        "startup MB",
        "list+search MB",
        "1st reconcile MB",
        "2nd reconcile MB",
        "1st answer s",
        "list ms",
        "search ms",
    ]
    parts = [
        [
            row["lessons"],
            row["offer_set_parts"]["offer_items_list_mb"],
            row["offer_set_parts"]["decision_states_mb"],
            row["offer_set_parts"]["negentropy_storage_mb"],
        ]
        for row in data["results"]
    ]
    target = data["target"]
    largest = data["results"][-1]
    judged = bool(data.get("target_size_measured", largest["lessons"] >= target["lessons"]))
    why = data.get("notes") or f"The peak was {largest['peak_rss_mb']:.0f} MB."
    return Section(
        "Memory",
        "Peak RSS (`VmHWM`) of a `rhizome serve` process holding N generated lessons, reset "
        "between phases: after start-up; answering a page of the list and a search on "
        "`/api/v1/lessons`; answering a full reconciliation from a paired peer with an empty "
        "archive (so the server builds its whole offer set), twice. The second table is "
        "tracemalloc's measure of an offer set's parts.",
        [
            table(headers, rows),
            table(["lessons", "offer_items list MB", "decision states MB", "storage MB"], parts),
        ],
        [
            Verdict(
                f"at most {target['rss_mb']:.0f} MB RSS at {target['lessons']:,} lessons",
                largest["peak_rss_mb"] / target["rss_mb"],
                judged,
                why,
            )
        ],
        [("memory.png", "Peak RSS of the serving node against archive size.")],
    )


def generic_section(name: str, data: dict[str, Any]) -> Section:
    scalars = [[key, value] for key, value in data.items() if isinstance(value, int | float | str)]
    return Section(name, "", [table(["measure", "value"], scalars)] if scalars else [])


SECTIONS: dict[str, Callable[[dict[str, Any]], Section]] = {
    "import": import_section,
    "sync": sync_section,
    "bundle": bundle_section,
    "negentropy": negentropy_section,
    "revocation": revocation_section,
    "memory": memory_section,
}


def _register_late_sections() -> None:
    """Sections kept in modules of their own: they import this one, so they are registered
    when a report is rendered, not when this module loads."""
    from bench.report_attachments import attachments_section
    from bench.report_federation import federation_section
    from bench.report_reads import reads_section
    from bench.report_sealed import sealed_section
    from bench.report_search import search_section
    from bench.report_tls import tls_section
    from bench.report_wipe import wipe_section

    SECTIONS["tls"] = tls_section
    SECTIONS["federation"] = federation_section
    SECTIONS["reads"] = reads_section
    SECTIONS["wipe"] = wipe_section
    SECTIONS["attachments"] = attachments_section
    SECTIONS["sealed"] = sealed_section
    SECTIONS["search"] = search_section


# -- plots ----------------------------------------------------------------------------------


def tick_label(value: float) -> str:
    """A log axis tick's label: only at 1, 2 and 5 times a power of ten, so labels never crowd."""
    if value <= 0:
        return ""
    leading = f"{value:.0e}"[0]
    return f"{value:g}" if leading in "125" else ""


def short(value: float) -> str:
    """1, 10, 1k, 100k, 1M: a count for an axis."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def make_plots(results: Results, folder: Path) -> set[str] | None:
    """Write the PNGs; the names written, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    plt.rcParams.update(
        {
            "figure.figsize": (8, 3.4),
            "figure.dpi": 90,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 9,
        }
    )

    def save(figure: Any, name: str) -> None:
        figure.tight_layout()
        figure.savefig(folder / name)
        plt.close(figure)
        written.add(name)

    def counts(axis: Any, xs: list[int]) -> None:
        """Ticks at the measured sizes, written 1k, 10k, 1M."""
        axis.set_xscale("log")
        axis.set_xticks(xs)
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: short(value)))
        axis.xaxis.set_minor_formatter(NullFormatter())

    def plain_log_y(axis: Any) -> None:
        """A log y axis labelled 1, 2, 5, 10, 20... rather than in powers of ten."""
        axis.set_yscale("log")
        label = FuncFormatter(lambda value, _: tick_label(value))
        axis.yaxis.set_major_formatter(label)
        axis.yaxis.set_minor_formatter(label)

    def target_line(axis: Any, value: float, label: str) -> None:
        axis.axhline(value, color="tab:red", linestyle="--", linewidth=1, label=label)

    def reconciliation(rows: list[dict[str, Any]], key: str, label: str, name: str) -> None:
        xs = [row[key] for row in rows]
        figure, (cpu, wire) = plt.subplots(1, 2, figsize=(8, 4))
        cpu.plot(xs, [row["cpu_initiator_s"] * 1000 for row in rows], "o-", label="initiator")
        cpu.plot(xs, [row["cpu_responder_s"] * 1000 for row in rows], "s-", label="responder")
        target_line(cpu, targets["cpu_per_side_s"] * 1000, "target (n = 1M, d = 10)")
        cpu.set(xlabel=label, ylabel="CPU per side (ms)")
        plain_log_y(cpu)
        counts(cpu, xs)
        wire.plot(
            xs,
            [row["bytes_initiator_to_responder"] / 1000 for row in rows],
            "o-",
            label="initiator → responder",
        )
        wire.plot(
            xs,
            [row["bytes_responder_to_initiator"] / 1000 for row in rows],
            "s-",
            label="responder → initiator",
        )
        wire.plot(xs, [row["total_bytes"] / 1000 for row in rows], "k:", label="total")
        target_line(wire, targets["total_bytes"] / 1000, "target total (n = 1M, d = 10)")
        wire.set(xlabel=label, ylabel="bytes on the wire (KB)")
        plain_log_y(wire)
        counts(wire, xs)
        for x, row in zip(xs, rows, strict=True):
            wire.annotate(
                f"{row['round_trips']} RT",
                (x, row["total_bytes"] / 1000),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
        for axis in (cpu, wire):  # below the plot, where no line or label can be
            axis.legend(
                fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False
            )
        save(figure, name)

    if "negentropy" in results:
        data = results["negentropy"]
        targets = data["targets"]
        reconciliation(data["results"], "items", "items per side (n), d = 10", "negentropy_n.png")
        if "d_sweep" in data:
            sweep = data["d_sweep"]
            label = f"differences (d), n = {sweep['items']:,}"
            reconciliation(sweep["results"], "differences", label, "negentropy_d.png")

    if "revocation" in results:
        runs = results["revocation"]["runs"]
        xs = [run["nodes"] for run in runs]
        figure, (time_axis, messages) = plt.subplots(1, 2)
        time_axis.plot(
            xs,
            [run["seconds_to_last_receipt"] for run in runs],
            "o-",
            label="revoke → last receipt",
        )
        time_axis.plot([12, 50], [1.0, 2.0], "rv", label="targets")
        time_axis.set(xlabel="nodes (processes)", ylabel="seconds", ylim=(0, None))
        time_axis.legend(fontsize=7)
        messages.plot(xs, [run["messages"] for run in runs], "o-", color="tab:green")
        messages.set(xlabel="nodes (processes)", ylabel="messages per revocation", ylim=(0, None))
        save(figure, "revocation.png")

    if "search" in results:
        from bench.report_search import search_plot

        search_plot(results["search"], folder, plt, save)

    if "memory" in results:
        data = results["memory"]
        rows = data["results"]
        xs = [row["lessons"] for row in rows]
        figure, axis = plt.subplots(figsize=(5.5, 3.4))
        axis.plot(xs, [row["peak_rss_mb"] for row in rows], "o-", label="peak (any phase)")
        axis.plot(
            xs, [row["phase_peak_rss_mb"]["startup"] for row in rows], "s:", label="after start-up"
        )
        target = data["target"]
        axis.plot(
            [target["lessons"]],
            [target["rss_mb"]],
            "rv",
            markersize=8,
            label=f"target at {target['lessons']:,}",
        )
        axis.set(xlabel="lessons served", ylabel="RSS (MB)", ylim=(0, None))
        counts(axis, [*xs, target["lessons"]] if target["lessons"] not in xs else xs)
        axis.legend(fontsize=7)
        save(figure, "memory.png")

    if "sync" in results and "git_clone_seconds" in results["sync"]:
        data = results["sync"]
        labels = ["bare limit", "rhizome sync", "git clone"]
        values = [data["bare_seconds"], data["sync_seconds"], data["git_clone_seconds"]]
        figure, axis = plt.subplots(figsize=(5.5, 2.6))
        bars = axis.barh(labels, values, color=["tab:gray", "tab:blue", "tab:orange"])
        axis.bar_label(bars, [f"{value:.2f} s" for value in values], padding=3, fontsize=8)
        axis.set(xlabel=f"seconds for {data['lessons']:,} lessons ({data['megabytes']} MB)")
        axis.invert_yaxis()
        axis.set_xlim(0, max(values) * 1.2)
        save(figure, "sync.png")
    if "reads" in results:
        from bench.report_reads import reads_plot

        reads_plot(results["reads"], folder, plt, save)
    return written


# -- the page -------------------------------------------------------------------------------


def run_entries(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each benchmark's entry in the run file: seconds, quick, started, ok."""
    entries = {}
    for name, entry in run.get("benchmarks", {}).items():
        if isinstance(entry, int | float):  # the older run file: seconds, and a failed list
            entry = {
                "seconds": entry,
                "quick": run.get("quick"),
                "started": run.get("started"),
                "ok": name not in run.get("failed", ()),
            }
        entries[name] = entry
    return entries


def main_run(run: dict[str, Any]) -> tuple[str | None, bool]:
    """(started, quick) of the run most results come from (a --only run adds to another)."""
    pairs = Counter(
        (entry.get("started"), bool(entry.get("quick"))) for entry in run_entries(run).values()
    )
    if not pairs:
        return run.get("started"), bool(run.get("quick"))
    return pairs.most_common(1)[0][0]


def provenance(run: dict[str, Any], name: str) -> list[str]:
    """A line for results that do not come from the run named at the top of the page."""
    entry = run_entries(run).get(name)
    if entry is None:
        return ["*These results are from an earlier run than the one above.*", ""]
    if not entry.get("ok", True):
        return [
            f"*This benchmark failed in the run started {entry.get('started')}: these results "
            "are from an earlier run.*",
            "",
        ]
    if (entry.get("started"), bool(entry.get("quick"))) != main_run(run):
        kind = "quick run" if entry.get("quick") else "full run"
        return [f"*Measured in a separate {kind} started {entry.get('started')}.*", ""]
    return []


def render(results: Results, plots: set[str] | None, plot_prefix: str) -> str:
    _register_late_sections()
    run = results.get(RUN, {})
    machines = {json.dumps(data.get("machine"), sort_keys=True) for data in results.values()}
    machines.discard("null")
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench` (bench/report.py) from bench/results/*.json; "
        "edit those scripts, not this page. -->",
        "",
        "Measured with `make bench` (`python -m bench`; `python -m bench --quick` for a "
        "one-minute subset). Every figure is a ratio of two things measured side by side in "
        "the same run, or a curve: the machine is shared and noisy, so absolute times vary "
        "from run to run more than their ratios do.",
        "",
    ]
    if len(machines) == 1:
        lines += [f"**Machine:** {machine_text(json.loads(machines.pop()))}.", ""]
    elif machines:
        lines += [
            "**Machines:** the results come from more than one machine; see each section.",
            "",
        ]
    if run:
        started, quick = main_run(run)
        kind = "quick run (`--quick`)" if quick else "full run"
        total = sum(float(entry.get("seconds", 0)) for entry in run_entries(run).values())
        lines.append(
            f"**Run:** {kind} started {started or '?'}; the benchmarks took "
            f"{total / 60:.1f} minutes in all."
        )
    if plots is None:
        lines += ["", "Plots need matplotlib: `pip install -e .[bench]`, then `python -m bench`."]
    lines.append("")
    summary = []
    sections = []
    names = [name for name in ORDER if name in results]
    names += sorted(name for name in results if name not in ORDER and name != RUN)
    for name in names:
        data = results[name]
        make = SECTIONS.get(name)
        section = make(data) if make else generic_section(name, data)
        sections.append((name, data, section))
        for verdict in section.verdicts:
            state = (
                "not measured"
                if verdict.ratio is None
                else "not judged (size not reached)"
                if not verdict.judged
                else "met"
                if verdict.met
                else "**missed**"
            )
            ratio = "–" if verdict.ratio is None else f"{verdict.ratio:.2f}"
            summary.append(f"| {section.title} | {verdict.target} | {ratio} | {state} |")
    if summary:
        lines += [
            "## Targets at a glance",
            "",
            "Ratio is measured/target (target/measured where more is better): 1.00 or less "
            "meets the target.",
            "",
            "| benchmark | target | ratio | |",
            "|---|---|---:|---|",
            *summary,
            "",
        ]
    for name, data, section in sections:
        lines += [f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        if run:
            lines += provenance(run, name)
        if len(machines) > 1 and data.get("machine"):
            lines += [f"Machine: {machine_text(data['machine'])}.", ""]
        for text in section.tables:
            lines += [text, ""]
        for verdict in section.verdicts:
            lines += [verdict.text(), ""]
        if section.extra:
            lines += [section.extra, ""]
        if data.get("findings"):
            lines += ["**Also found:**", ""]
            lines += [f"- {finding}" for finding in data["findings"]]
            lines.append("")
        for file_name, caption in section.plots:
            if plots and file_name in plots:
                lines += [f"![{caption}]({plot_prefix}{file_name})", ""]
        if name not in SECTIONS:
            lines += [f"(No description for the `{name}` results.)", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    results: Results,
    markdown: Path = MARKDOWN,
    plot_dir: Path = PLOTS,
    with_plots: bool = True,
) -> Path:
    """Write the page (and the plots beside it); the page's path."""
    plots = make_plots(results, plot_dir) if with_plots else None
    prefix = Path(os.path.relpath(plot_dir, markdown.parent)).as_posix() + "/"
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(render(results, plots, prefix), encoding="utf-8")
    return markdown


def main() -> None:
    results = load_results()
    if not results:
        raise SystemExit(f"no results in {RESULTS}: run python -m bench first")
    path = write_report(results)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
