"""``python -m bench [--quick]``: run every benchmark and write JSON to bench/results/."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = [
    "bench.bench_bundle",
    "bench.bench_import",
    "bench.bench_sync",
    "bench.bench_negentropy",
    "bench.bench_revocation",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a one-minute subset")
    quick = parser.parse_args().quick
    for name in BENCHMARKS:
        print(f"== {name}")
        importlib.import_module(name).run(quick)


if __name__ == "__main__":
    main()
