"""A 10,000-record bundle round trip: export for a peer, import there; MB/s both ways.

Both nodes run in this process on their own homes; trust is set up directly in each
database (pairing is not what this measures). The import is compared with the bare limit
measured in the same run on the same records (decode, verify, insert in one transaction).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_sync import bare_limit, make_node
from bench.common import write_corpus, write_result
from federation.bundles import export_bundle, import_bundle
from federation.peers import get_peer, save_peer
from node.importer import import_folder


def run(quick: bool = False) -> dict[str, Any]:
    count = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-bundle-") as tmp:
        root = Path(tmp)
        sender, receiver = make_node(root, "a", 1), make_node(root, "b", 2)
        now = int(time.time())
        save_peer(sender.db, receiver.node_id, "b", "Lab", receiver.config.url, now)
        save_peer(receiver.db, sender.node_id, "a", "Lab", sender.config.url, now)
        assert len(import_folder(sender, write_corpus(root / "lessons", count)).imported) == count
        peer = get_peer(sender.db, receiver.node_id)
        assert peer is not None
        started = time.perf_counter()
        export = export_bundle(sender.local_node(), peer, None)
        data, contents = export.data, export.contents
        export_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report = import_bundle(receiver.local_node(), data)
        import_seconds = time.perf_counter() - started
        assert report.stored == count, vars(report)
        bare_seconds = bare_limit(contents.records, root / "bare.db")
        sender.close()
        receiver.close()
    megabytes = len(data) / 1e6
    result = {
        "records": count,
        "bundle_megabytes": round(megabytes, 2),
        "export_seconds": round(export_seconds, 3),
        "import_seconds": round(import_seconds, 3),
        "export_mb_per_second": round(megabytes / export_seconds, 2),
        "import_mb_per_second": round(megabytes / import_seconds, 2),
        "bare_seconds": round(bare_seconds, 3),
        "import_over_bare": round(import_seconds / bare_seconds, 2),
    }
    print(
        f"bundle: {count} records, {megabytes:.1f} MB; "
        f"export {megabytes / export_seconds:.1f} MB/s, "
        f"import {megabytes / import_seconds:.1f} MB/s ({import_seconds / bare_seconds:.2f}x the "
        "bare decode+verify+insert limit)"
    )
    write_result("bundle", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
