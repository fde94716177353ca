"""The report's section for ``bench_wipe``: panic wipe time against archive size.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, Verdict, table


def wipe_section(data: dict[str, Any]) -> Section:
    rows = data["results"]
    headers = ["lessons", "built", "home MB", "key files", "keys gone ms (median)",
               "keys gone ms (max)", "home deleted s (median)", "home deleted s (max)"]  # fmt: skip
    cells = [
        [row["lessons"], row["built"], row["home_mb"], row["key_files"], row["keys_ms_median"],
         row.get("keys_ms_max", "–"), row["wipe_s_median"], row["wipe_s_max"]]
        for row in rows
    ]  # fmt: skip
    target = data["target"]
    largest = rows[-1]
    keys_max = largest.get("keys_ms_max", largest["keys_ms_median"]) / 1000
    verdict = Verdict(
        f"unrecoverable (every key destroyed) in under {target['seconds']:.0f} s at "
        f"{target['lessons']:,} lessons",
        keys_max / target["seconds"],
        bool(data["target_size_measured"]),
        f"The slowest key destruction at {largest['lessons']:,} lessons took {keys_max:.2f} s.",
    )
    sealed = data.get("sealed_at_rest")
    extra = (
        f"Deleting the rest of the home took {largest['wipe_s_median']} s (median) at "
        f"{largest['lessons']:,} lessons ({largest['home_mb']:,} MB): it grows with the "
        "bytes on disk, and on this machine's file system (mounted with `discard`) every "
        "freed block is trimmed as the file goes. By then nothing of a sealed home could be "
        "decrypted any more; an unsealed home's database is only deleted (see Wipe a node). "
        + ("The homes were sealed at rest (SQLCipher)." if sealed else
           "These homes were not yet encrypted at rest (a build before sealing).")
    )
    return Section(
        "Wipe",
        "`rhizome wipe` (node/wipe.py) on a node home made with a passphrase, its archive "
        f"generated straight into the database ({data['words_per_lesson']} words a lesson); "
        "up to 100k every lesson is signed, the million is the 100k archive grown by copying "
        "its rows under new ids (a wipe's cost depends on the files on disk only). Each "
        f"wipe runs on a fresh copy of the home written to the disk first, {data['repeats']} "
        "times per size: *keys gone* is when every key file was overwritten, flushed and "
        "deleted (from then on nothing of a sealed home can be decrypted, even with the "
        "passphrase), *home deleted* when the whole home was gone.",
        [table(headers, cells)],
        [verdict],
        extra=extra,
    )
