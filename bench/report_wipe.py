"""The report's section for ``bench_wipe``: panic wipe time against archive size.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, Verdict, table


def wipe_section(data: dict[str, Any]) -> Section:
    rows = data["results"]
    headers = ["lessons", "built", "home MB", "key files", "keys gone ms (median)",
               "wiped s (median)", "wiped s (max)"]  # fmt: skip
    cells = [
        [row["lessons"], row["built"], row["home_mb"], row["key_files"], row["keys_ms_median"],
         row["wipe_s_median"], row["wipe_s_max"]]
        for row in rows
    ]  # fmt: skip
    target = data["target"]
    largest = rows[-1]
    verdict = Verdict(
        f"unrecoverable in under {target['seconds']:.0f} s at {target['lessons']:,} lessons",
        largest["wipe_s_max"] / target["seconds"],
        bool(data["target_size_measured"]),
        f"The slowest wipe at {largest['lessons']:,} lessons took {largest['wipe_s_max']} s.",
    )
    return Section(
        "Wipe",
        "`rhizome wipe` (node/wipe.py) on a node home made with a passphrase, its archive "
        f"generated straight into the database ({data['words_per_lesson']} words a lesson); "
        "up to 100k every lesson is signed, the million is the 100k archive grown by copying "
        "its rows under new ids (a wipe's cost depends on the files on disk only). Each "
        f"wipe runs on a fresh copy of the home written to the disk first, {data['repeats']} "
        "times per size: *keys gone* is when every key file was overwritten, flushed and "
        "deleted (from then on nothing of a sealed home can be decrypted), *wiped* when the "
        "whole home was gone.",
        [table(headers, cells)],
        [verdict],
    )
