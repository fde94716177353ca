"""The report's section for ``bench_attachments``: syncing lessons with photos.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, table


def attachments_section(data: dict[str, Any]) -> Section:
    headers = ["lessons", "photos MB", "sync s", "records alone s", "cp s", "sync/cp",
               "sync/records alone", "photos MB/s"]  # fmt: skip
    row = [data["lessons"], data["photo_megabytes"], data["sync_seconds"],
           data["records_only_seconds"], data["cp_seconds"], data["sync_over_cp"],
           data["sync_over_records_only"], data["photo_megabytes_per_second"]]  # fmt: skip
    return Section(
        "Attachments",
        "Node B pairs with node A (`rhizome serve` in its own process, loopback) and runs one "
        "initial sync of lessons that each carry one photo of about 2 MB (random pixels, after "
        "cleaning): the records first, then each photo in chunks of 512 KiB, each chunk "
        "checked against its digest and each photo against its signed hash, written to a "
        "partial download and fsynced. *Records alone*: the same sync of the same lessons "
        "without their photos. *cp*: `cp -r` of A's `blobs/` folder, then `sync`.",
        [table(headers, [row])],
        extra=(
            "No target was set. The difference to `cp` is one signed HTTPS request per "
            "chunk, the consent decision per photo on the serving side, the digest checks "
            "and an fsync per chunk on the receiving side (what makes a transfer resumable "
            "after a crash), one transfer at a time."
        ),
    )
