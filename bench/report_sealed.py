"""The report's section for ``bench_sealed``: a sealed node against an unsealed one.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, Verdict, table


def sealed_section(data: dict[str, Any]) -> Section:
    rows = data["rows"]
    cells = [[row["measure"], row["unsealed_s"], row["sealed_s"], row["ratio"]] for row in rows]
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
        "in the same run (bench/bench_sealed.py): `import_folder` of the lesson files; the "
        "receiving side of an initial sync (the same signed envelopes handed to the "
        "`Receiver` in batches, without HTTP); and 200 fixed searches (best of three). The "
        "passphrase stretch (argon2id, once per process) is left out.",
        [table(["measure", "unsealed s", "sealed s", "sealed/unsealed"], cells)],
        [verdict],
    )
