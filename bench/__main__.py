"""``python -m bench [--quick] [--only NAME ...]`` (or ``python -m bench NAME ...``): run
the benchmarks, write JSON to bench/results/, then docs/benchmarks.md and its plots
(bench/report.py).

Each benchmark runs in a process of its own, one after the other, so that none inherits
another's memory and the big ones (negentropy at 1M items, 50 revocation nodes, a node
serving 1M lessons) never overlap: the light ones first, the memory benchmark last.
``--quick`` runs a subset in about a minute and still writes the report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.common import RESULTS

BENCHMARKS = (
    "bundle",
    "import",
    "sync",
    "tls",
    "search",
    "reads",
    "negentropy",
    "revocation",
    "federation",
    "memory",
    "wipe",
    "attachments",
    "sealed",
)
ROOT = Path(__file__).resolve().parents[1]


def run_one(name: str, quick: bool) -> tuple[bool, float]:
    """Run ``bench.bench_NAME`` in a child process; (succeeded, seconds)."""
    command = [sys.executable, "-m", f"bench.bench_{name}", *(["--quick"] if quick else [])]
    started = time.perf_counter()
    returncode = subprocess.run(command, cwd=ROOT, check=False).returncode
    return returncode == 0, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a one-minute subset")
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, metavar="NAME",
        help=f"run only these ({', '.join(BENCHMARKS)}); the report uses every result there is",
    )  # fmt: skip
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="the same as --only NAME ...",
    )  # fmt: skip
    arguments = parser.parse_args()
    if unknown := set(arguments.names) - set(BENCHMARKS):
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    arguments.only = (arguments.only or []) + arguments.names or None
    names = [name for name in BENCHMARKS if not arguments.only or name in arguments.only]
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    run_file = RESULTS / f"{report.RUN}.json"
    # A partial run (--only) keeps what the run file says of the others' results.
    earlier = json.loads(run_file.read_text()) if arguments.only and run_file.exists() else {}
    benchmarks: dict[str, dict[str, object]] = dict(earlier.get("benchmarks", {}))
    failed: list[str] = []
    for name in names:
        print(f"== {name}", flush=True)
        succeeded, seconds = run_one(name, arguments.quick)
        print(f"   ({seconds:.1f} s)", flush=True)
        if not succeeded:
            failed.append(name)
        benchmarks[name] = {
            "seconds": round(seconds, 1),
            "quick": arguments.quick,
            "started": started_at,
            "ok": succeeded,
        }
    run = {
        "quick": arguments.quick,
        "started": started_at,
        "seconds": round(time.perf_counter() - started, 1),
        "benchmarks": benchmarks,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(run, indent=2))
    print("== report", flush=True)
    report.main()
    print(f"all done in {float(run['seconds']) / 60:.1f} minutes", flush=True)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (see above)")


if __name__ == "__main__":
    main()
