"""Import rate of ``rhizome lesson import`` against the bare limit, in one run.

The bare limit parses, signs and inserts the same files in one transaction with nothing
else (no event log, no savepoints, no duplicate or version checks): what the hardware and
libraries allow. Target from the issue: at least 2,000 lessons per second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from archive.db import transaction
from archive.lesson_file import parse_lesson_file
from archive.signed_record import sign_lesson
from archive.store import insert_record
from bench.common import write_corpus, write_result
from node.database import open_database
from node.home import create_home
from node.importer import import_folder
from node.node import Node

TARGET_PER_SECOND = 2000


def bare_limit(folder: Path, database: Path, node: Node) -> float:
    """Seconds to parse, sign and insert every file with nothing else around it."""
    db = open_database(database)
    started = time.perf_counter()
    with transaction(db):
        for path in sorted(folder.iterdir()):
            draft = parse_lesson_file(path.read_bytes(), str(path))
            lesson = node.lesson_from_draft(draft, str(path), "admin")
            insert_record(db, sign_lesson(node.identity, lesson), None, 0)
    elapsed = time.perf_counter() - started
    db.conn.close()
    return elapsed


def run(quick: bool = False) -> dict[str, Any]:
    count = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="rhizome-bench-") as tmp:
        root = Path(tmp)
        corpus = write_corpus(root / "lessons", count)
        create_home(root / "home", name="Bench", region="Lab", language="en", url=None,
                    host="127.0.0.1", port=8470, passphrase=None)  # fmt: skip
        node = Node(root / "home")
        started = time.perf_counter()
        report = import_folder(node, corpus)
        elapsed = time.perf_counter() - started
        assert len(report.imported) == count, report.rejected[:3]
        bare = bare_limit(corpus, root / "bare.db", node)
        node.close()
    rate, bare_rate = count / elapsed, count / bare
    result = {
        "lessons": count,
        "import_seconds": round(elapsed, 3),
        "import_per_second": round(rate),
        "bare_per_second": round(bare_rate),
        "import_vs_bare": round(rate / bare_rate, 3),
        "target_per_second": TARGET_PER_SECOND,
        "import_vs_target": round(rate / TARGET_PER_SECOND, 2),
    }
    print(
        f"import: {count} lessons in {elapsed:.2f} s = {rate:,.0f}/s; "
        f"bare limit {bare_rate:,.0f}/s "
        f"(import at {rate / bare_rate:.0%} of it); target {TARGET_PER_SECOND}/s "
        f"→ {rate / TARGET_PER_SECOND:.2f}× target"
    )
    write_result("import", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
