"""The report's section for ``bench_sealed``: a sealed node against an unsealed one.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, Verdict, table

HEADERS = ["measure", "unsealed s", "sealed s", "sealed/unsealed", "CPU ratio", "each pair"]


def sealed_section(data: dict[str, Any]) -> Section:
    rows = data["rows"]
    cells = [
        [row["measure"], row["unsealed_s"], row["sealed_s"], row["ratio"],
         row.get("cpu_ratio", ""), ", ".join(str(r) for r in row.get("pair_ratios", []))]
        for row in rows
    ]  # fmt: skip
    target = data["target_ratio"]
    worst = max(rows, key=lambda row: row["ratio"])
    verdict = Verdict(
        f"a sealed node within {target}x of an unsealed one on import, initial sync and search",
        worst["ratio"] / target,
        True,
        f"The slowest was {worst['measure']}: {worst['ratio']:.2f}x. SQLCipher encrypts and "
        "authenticates every page it writes and decrypts every page it reads that is not in "
        "its cache.",
    )
    return Section(
        "Sealed against unsealed",
        f"{data['lessons']:,} lessons, on a sealed home (SQLCipher 4: AES-256 and HMAC-SHA512 "
        "per page, under a raw key derived from the home key) and an unsealed one made alike, "
        "in the same run (bench/bench_sealed.py): `import_folder` of the lesson files and the "
        "receiving side of an initial sync (the same signed envelopes handed to the "
        f"`Receiver` in batches, without HTTP), {data.get('pairs', 1)} times on fresh homes of "
        "each kind, the kinds taking turns (medians; the ratio of each pair is listed); then "
        "200 fixed searches straight against the index and 200 through the API's search "
        "(best of 7 rounds, the homes taking turns). Wall-clock ratios count; the CPU-time "
        "ratio shows what the encryption itself costs when other work shares the machine. "
        "The passphrase stretch (argon2id, once per process) is left out.",
        [table(HEADERS, cells)],
        [verdict],
    )
