"""The report's section for ``bench_tls``: TLS against plain HTTP, side by side.

Kept apart from ``bench/report.py`` (already long); registered in its ``SECTIONS``.
"""

from __future__ import annotations

from typing import Any

from bench.report import Section, Verdict, table

FULL_SIZE = 20_000  # the target is set at the 20k-lesson initial sync


def rounds_text(rounds: int) -> str:
    if rounds == 1:
        return "one round per transport, plain first"
    return f"{rounds} rounds per transport, in the order plain, TLS, TLS, plain"


def tls_section(data: dict[str, Any]) -> Section:
    plain, tls = data["plain"], data["tls"]
    headers = ["transport", "lessons", "best sync s", "each sync s", "lessons/s",
               "revocation median ms"]  # fmt: skip
    rows = [
        [name, data["lessons"], side["sync_seconds"],
         " / ".join(f"{seconds:.2f}" for seconds in side["sync_seconds_each"]),
         side["sync_records_per_second"], side["revocation_median_ms"]]
        for name, side in (("plain HTTP", plain), ("TLS, pinned", tls))
    ]  # fmt: skip
    overhead, target = data["tls_sync_overhead"], data["target_overhead"]
    why = (
        f"The best TLS sync took {tls['sync_seconds']:.2f} s against the best plain HTTP sync's "
        f"{plain['sync_seconds']:.2f} s ({overhead:+.1%}; the target allows +{target:.0%})."
    )
    verdict = Verdict(
        f"TLS costs at most {target:.0%} on the {FULL_SIZE // 1000}k-lesson initial sync",
        (1 + overhead) / (1 + target),
        data["lessons"] >= FULL_SIZE,
        why,
    )
    extra = (
        f"**Revocation latency** (median of {data['revocations']}, each on a new connection "
        f"so the handshake counts): {plain['revocation_median_ms']} ms plain, "
        f"{tls['revocation_median_ms']} ms TLS ({data['tls_revocation_overhead']:+.1%})."
    )
    return Section(
        "TLS against plain HTTP",
        "Node A serves its lessons in its own process (`rhizome serve`), once over plain HTTP "
        "(`tls = false`, `allow_plain_http = true`, a lab's setting) and once over TLS 1.3 "
        "with the certificate made from its node key, pinned by the client; a fresh node B "
        "pairs and runs one initial sync of every lesson. Then A revokes lessons one at a "
        "time and B takes each one as a holder that asks its peer: the time from B's request "
        "to A holding B's signed purge receipt. Each round serves a fresh copy of A's home; "
        f"{rounds_text(data['rounds'])}, and each transport's best sync is compared (the "
        "machine is shared).",
        [table(headers, rows)],
        [verdict],
        extra=extra,
    )
