"""The benchmark report is written from results alone: tables, targets, misses and plots.

Nothing is timed here; the numbers are made up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import report

MACHINE = {"python": "3.11.7", "platform": "Linux-test", "processor": "x86_64", "cpus": 2}


def fake_results() -> dict[str, dict[str, Any]]:
    negentropy_row = {
        "round_trips": 3,
        "bytes_initiator_to_responder": 8_000,
        "bytes_responder_to_initiator": 11_000,
        "total_bytes": 19_000,
        "cpu_initiator_s": 0.004,
        "cpu_responder_s": 0.005,
    }
    return {
        "run": {
            "quick": False,
            "started": "2026-01-01 00:00 UTC",
            "seconds": 600.0,
            "benchmarks": {
                **{
                    name: {
                        "seconds": 10.0,
                        "quick": False,
                        "started": "2026-01-01 00:00 UTC",
                        "ok": True,
                    }
                    for name in ("import", "sync", "negentropy", "search")
                },
                "memory": {
                    "seconds": 1.0,
                    "quick": False,
                    "started": "2026-01-01 00:00 UTC",
                    "ok": False,
                },
            },
        },
        "import": {
            "machine": MACHINE,
            "lessons": 100,
            "import_seconds": 0.1,
            "import_per_second": 1_000,
            "bare_per_second": 1_500,
            "import_vs_bare": 0.67,
            "target_per_second": 2_000,
            "import_vs_target": 0.5,
        },
        "sync": {
            "machine": MACHINE,
            "lessons": 100,
            "received": 100,
            "megabytes": 0.3,
            "sync_seconds": 0.3,
            "bare_seconds": 0.2,
            "sync_over_bare": 1.5,
            "target_ratio": 2.0,
            "sync_records_per_second": 333,
            "git_clone_seconds": 0.1,
            "git_pack_megabytes": 0.1,
            "sync_over_git_clone": 3.0,
        },
        "negentropy": {
            "machine": MACHINE,
            "targets": {
                "items": 1_000_000,
                "differences": 10,
                "round_trips": 3,
                "cpu_per_side_s": 0.25,
                "total_bytes": 20_000,
                "node_rss_mb": 300,
            },
            "results": [
                {"items": n, "differences": 10, **negentropy_row} for n in (10_000, 1_000_000)
            ],
            "target_size_measured": True,
            "d_sweep": {
                "items": 1_000_000,
                "results": [
                    {"items": 1_000_000, "differences": d, **negentropy_row} for d in (1, 1_000)
                ],
            },
        },
        "search": {
            "machine": MACHINE,
            "target": {"p95_ms": 50.0, "lessons": 100_000},
            "words_per_lesson": 250,
            "vocabulary": 20_000,
            "results": [
                {
                    "lessons": n,
                    "searches": 200,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "max_ms": p95 * 2,
                    "mean_hits": 10.0,
                    "slowest": [{"query": "consent", "ms": 90.0, "matches": n}],
                }
                for n, p50, p95 in ((1_000, 0.3, 5.0), (100_000, 6.0, 75.0))
            ],
            "target_size_measured": True,
            "notes": "Too many matches to rank for the everyday words.",
        },
        "memory": {
            "machine": MACHINE,
            "target": {"rss_mb": 300.0, "lessons": 1_000_000},
            "results": [
                {
                    "lessons": 10_000,
                    "peak_rss_mb": 90.0,
                    "phase_peak_rss_mb": {"startup": 80.0, "first_reconcile": 90.0},
                    "first_reconcile": {"first_round_trip_s": 0.3},
                    "list_ms": 12.0,
                    "search_ms": 20.0,
                    "offer_set_parts": {
                        "offer_items_list_mb": 1.5,
                        "decision_states_mb": 2.4,
                        "negentropy_storage_mb": 0.7,
                    },
                }
            ],
            "target_size_measured": False,
            "notes": "",
        },
    }


@pytest.mark.parametrize("with_plots", [True, False])
def test_report_has_a_section_per_benchmark_with_targets_and_misses(
    tmp_path: Path, with_plots: bool
) -> None:
    markdown = tmp_path / "docs" / "benchmarks.md"
    plots = tmp_path / "docs" / "benchmarks"
    path = report.write_report(fake_results(), markdown, plots, with_plots=with_plots)
    text = path.read_text(encoding="utf-8")
    assert "Python 3.11.7 on Linux-test (x86_64, 2 CPUs)" in text
    for title in ("## Import", "## Initial sync", "## Reconciliation", "## Search", "## Memory"):
        assert title in text
    assert "at least 2,000 lessons per second: **missed**, measured/target = **2.00**" in text
    assert "1,000 short of 2,000" in text  # a computed reason where the benchmark gave none
    assert "**missed**, measured/target = **1.50**. Too many matches" in text  # its notes
    assert "within 2.0x the bare limit: met" in text
    assert "sync took **3.00x** as long as a clone" in text
    assert "This run did not reach that size" in text  # memory at 10k only
    assert "This benchmark failed in the run started" in text  # memory: its results are older
    if with_plots and (plots / "search.png").exists():
        for name in ("negentropy_n.png", "negentropy_d.png", "search.png", "memory.png"):
            assert (plots / name).stat().st_size > 0
            assert f"](benchmarks/{name})" in text
    else:
        assert "pip install -e .[bench]" in text
        assert ".png" not in text


def test_results_are_read_from_json_files(tmp_path: Path) -> None:
    for name, data in fake_results().items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    assert report.load_results(tmp_path) == fake_results()


def tls_results(lessons: int, plain_seconds: float, tls_seconds: float) -> dict[str, Any]:
    side = {"sync_records_per_second": 1_000, "revocation_median_ms": 20.0}
    return {
        "machine": MACHINE,
        "lessons": lessons,
        "revocations": 5,
        "rounds": 2,
        "plain": {**side, "sync_seconds": plain_seconds, "sync_seconds_each": [plain_seconds]},
        "tls": {
            **side,
            "sync_seconds": tls_seconds,
            "sync_seconds_each": [tls_seconds, 20.5],
            "revocation_median_ms": 25.0,
        },
        "tls_sync_overhead": round(tls_seconds / plain_seconds - 1, 3),
        "target_overhead": 0.15,
        "tls_revocation_overhead": 0.25,
    }


def test_the_tls_section_sets_both_transports_side_by_side_and_judges_the_overhead() -> None:
    met = report.render({"tls": tls_results(20_000, 10.0, 11.0)}, None, "")
    missed = report.render({"tls": tls_results(20_000, 10.0, 13.0)}, None, "")
    small = report.render({"tls": tls_results(2_000, 1.0, 1.1)}, None, "")

    assert "## TLS against plain HTTP" in met
    assert "| plain HTTP | 20,000 | 10.0 | 10.00 |" in met
    assert "| TLS, pinned | 20,000 | 11.0 | 11.00 / 20.50 |" in met
    assert "20k-lesson initial sync: met, measured/target = **0.96**" in met
    assert "**missed**, measured/target = **1.13**" in missed and "(+30.0%" in missed
    assert "20.0 ms plain, 25.0 ms TLS (+25.0%)" in met
    assert "This run did not reach that size" in small
