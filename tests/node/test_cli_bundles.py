"""``rhizome bundle export`` and ``rhizome bundle import`` on real homes, through the CLI.

Two hubs, Nairobi and Lima, trust each other (set up with ``save_peer`` on both homes, as a
finished pairing leaves it); Quito trusts Nairobi only. No network: the file is the only
thing that moves (issue 7, "Offline bundles"). Every bad file must give one line starting
with ``Error:``, exit status 1, no traceback, and store nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from federation import bundles
from federation.peers import save_peer
from node.cli import bundle_commands, context
from node.node import Node
from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import (
    Invoke,
    add_member,
    assert_clean_exit,
    assert_one_line_error,
    stored_counts,
)

FEDERATION = {"scope": "federation"}
SHARED = {"title": "Buddy pairs at every action", "kind": "checklist", "consent": FEDERATION}
ALSO_SHARED = {"title": "Water and snacks", "kind": "checklist", "consent": FEDERATION}
THIRD = {"title": "Third", "kind": "checklist", "consent": FEDERATION}
STAYS_HOME = {"title": "Names of our legal observers", "kind": "checklist"}  # no consent block
REPORT_KEYS = {
    "sender", "records", "stored", "quarantined", "duplicates", "rejected", "held",
    "revocations", "dry_run", "attachments",
}  # fmt: skip
# Tables a refused import or a dry run must leave as they were.
TABLES = ("records", "events", "decisions", "deliveries", "tombstones", "strikes", "outbox")


def node_id(home: Path) -> str:
    node = Node(home)
    try:
        return node.node_id
    finally:
        node.close()


def trust(here: Path, there: Path) -> None:
    """``here`` lists ``there`` as an active peer."""
    node, other = Node(here), Node(there)
    try:
        save_peer(
            node.db, other.node_id, other.config.name, other.config.region, other.config.url, 0
        )
    finally:
        node.close()
        other.close()


def counts(home: Path) -> dict[str, int]:
    with sqlite3.connect(home / "rhizome.db") as conn:
        found = {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}
        found["peer strikes"] = int(
            conn.execute("SELECT coalesce(sum(strikes), 0) FROM peers").fetchone()[0]
        )
    return found


def sent_to(home: Path, peer_home: Path) -> set[str]:
    with sqlite3.connect(home / "rhizome.db") as conn:
        rows = conn.execute(
            "SELECT record_id FROM deliveries WHERE peer_id = ? AND direction = 'sent'",
            [node_id(peer_home)],
        ).fetchall()
    return {str(row[0]) for row in rows}


@pytest.fixture
def homes(make_home: HomeFactory) -> dict[str, Path]:
    made = {
        "nairobi": make_home("Nairobi Hub", "East Africa"),
        "lima": make_home("Lima Hub", "Andes", port=8471),
        "quito": make_home("Quito Hub", "Andes", port=8472),
    }
    trust(made["nairobi"], made["lima"])
    trust(made["lima"], made["nairobi"])
    trust(made["nairobi"], made["quito"])
    trust(made["quito"], made["nairobi"])
    return made


def add_lesson(invoke: Invoke, home: Path, folder: Path, front: dict[str, Any]) -> str:
    name = str(front["title"]).lower().replace(" ", "-") + ".md"
    result = invoke(home, "lesson", "add", str(write_lesson(folder, name, front)))
    assert_clean_exit(result)
    return result.stdout.split()[-1]


@pytest.fixture
def lessons(invoke: Invoke, homes: dict[str, Path], tmp_path: Path) -> list[str]:
    """Two lessons Nairobi may share and one that stays home."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    fronts = (SHARED, ALSO_SHARED, STAYS_HOME)
    return [add_lesson(invoke, homes["nairobi"], folder, front) for front in fronts]


@pytest.fixture
def stick(tmp_path: Path) -> Path:
    folder = tmp_path / "stick"
    folder.mkdir()
    return folder


def export(invoke: Invoke, home: Path, file: Path, peer: str, *more: str) -> str:
    result = invoke(home, "bundle", "export", str(file), "--for", peer, *more)
    assert_clean_exit(result)
    return result.stdout


def import_json(invoke: Invoke, home: Path, file: Path, *more: str) -> dict[str, Any]:
    result = invoke(home, "bundle", "import", str(file), "--json", *more)
    assert_clean_exit(result)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.fixture
def for_lima(invoke: Invoke, homes: dict[str, Path], lessons: list[str], stick: Path) -> Path:
    file = stick / "for-lima.rhzb"
    export(invoke, homes["nairobi"], file, "Lima Hub")
    return file


# --- The happy path ------------------------------------------------------------------------


def test_export_then_import_prints_counts(
    invoke: Invoke, homes: dict[str, Path], lessons: list[str], stick: Path
) -> None:
    nairobi, lima = homes["nairobi"], homes["lima"]
    file = stick / "for-lima.rhzb"

    out = export(invoke, nairobi, file, "Lima Hub")

    size = file.stat().st_size
    assert out.strip() == (
        f"Wrote {file}: 2 records and 0 withdrawals for Lima Hub, {size:,} bytes, "
        "sealed to their key."
    )
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert file.read_bytes().startswith(b"RHZBNDL1")
    assert sent_to(nairobi, lima) == set(lessons[:2])

    result = invoke(lima, "bundle", "import", str(file))
    assert_clean_exit(result)
    assert result.stdout.strip() == (
        "Stored 2 records (0 to quarantine), 0 already here, 0 refused; 0 withdrawals applied."
    )
    listed = json.loads(invoke(lima, "lesson", "list", "--json").stdout)
    assert {item["title"] for item in listed} == {SHARED["title"], ALSO_SHARED["title"]}
    assert {item["origin"] for item in listed} == {node_id(nairobi)}
    hits = json.loads(invoke(lima, "lesson", "search", "buddy", "--json").stdout)
    assert [hit["id"] for hit in hits] == [lessons[0]]
    assert_clean_exit(invoke(lima, "verify"))
    peers = invoke(nairobi, "peer", "list").stdout
    assert "sent 2, received 0" in peers

    again = invoke(lima, "bundle", "import", str(file))
    assert_clean_exit(again)
    assert again.stdout.strip() == (
        "Stored 0 records (0 to quarantine), 2 already here, 0 refused; 0 withdrawals applied."
    )
    assert stored_counts(lima)[0] == 2


def test_import_json_reports_every_field(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path
) -> None:
    report = import_json(invoke, homes["lima"], for_lima)
    assert set(report) == REPORT_KEYS
    assert report == {
        "sender": node_id(homes["nairobi"]),
        "records": 2,
        "stored": 2,
        "quarantined": 0,
        "duplicates": 0,
        "rejected": 0,
        "held": 0,
        "revocations": 0,
        "dry_run": False,
        "attachments": 0,
    }


def test_a_withdrawal_travels_in_the_next_bundle(
    invoke: Invoke, homes: dict[str, Path], lessons: list[str], for_lima: Path, stick: Path
) -> None:
    nairobi, lima = homes["nairobi"], homes["lima"]
    assert import_json(invoke, lima, for_lima)["stored"] == 2
    assert_clean_exit(invoke(nairobi, "revoke", lessons[0], "--reason", "safety"))
    second = stick / "second.rhzb"

    out = export(invoke, nairobi, second, "Lima Hub", "--since", str(for_lima))

    assert "0 records and 1 withdrawal for Lima Hub" in out
    report = import_json(invoke, lima, second)
    assert (report["revocations"], report["stored"]) == (1, 0)
    listed = json.loads(invoke(lima, "lesson", "list", "--json").stdout)
    assert [item["id"] for item in listed] == [lessons[1]]
    old = import_json(invoke, lima, for_lima)
    assert (old["stored"], old["duplicates"], old["rejected"]) == (0, 1, 1)
    assert stored_counts(lima)[0] == 1


# --- Dry run -------------------------------------------------------------------------------


def test_dry_run_reports_counts_and_stores_nothing(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path
) -> None:
    lima = homes["lima"]
    before = counts(lima)

    result = invoke(lima, "bundle", "import", str(for_lima), "--dry-run")

    assert_clean_exit(result)
    assert result.stdout.strip() == (
        "Would store 2 records (0 to quarantine), 0 already here, 0 refused; 0 withdrawals applied."
    )
    assert counts(lima) == before
    report = import_json(invoke, lima, for_lima, "--dry-run")
    assert (report["dry_run"], report["stored"]) == (True, 2)
    assert counts(lima) == before
    assert import_json(invoke, lima, for_lima)["stored"] == 2


# --- Bad files -------------------------------------------------------------------------------


def _flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


BAD_FILES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda good: b"", "not a Rhizome bundle"),
    "junk": (lambda good: os.urandom(3000), "not a Rhizome bundle"),
    "a lesson file": (
        lambda good: b"---\ntitle: Buddy pairs\nkind: checklist\n---\n\nBody.\n",
        "not a Rhizome bundle",
    ),
    "truncated": (lambda good: good[: len(good) // 2], "damaged"),
    "cut after the magic": (lambda good: good[:8], "damaged"),
    "one flipped byte": (_flipped, "damaged"),
    "a flipped magic": (lambda good: b"S" + good[1:], "not a Rhizome bundle"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_file_gives_one_error_line_and_stores_nothing(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path, stick: Path, kind: str
) -> None:
    lima = homes["lima"]
    make, needle = BAD_FILES[kind]
    bad = stick / "bad.rhzb"
    bad.write_bytes(make(for_lima.read_bytes()))
    before = counts(lima)
    for extra in ((), ("--dry-run",), ("--json",)):
        result = invoke(lima, "bundle", "import", str(bad), *extra)
        assert result.exit_code == 1
        assert_one_line_error(result, needle)
    assert counts(lima) == before


def test_a_bundle_for_another_node_is_refused(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path
) -> None:
    quito = homes["quito"]
    before = counts(quito)
    result = invoke(quito, "bundle", "import", str(for_lima))
    assert result.exit_code == 1
    assert_one_line_error(result, "made for another node")
    assert counts(quito) == before


def test_a_missing_file_is_refused(invoke: Invoke, homes: dict[str, Path], stick: Path) -> None:
    result = invoke(homes["lima"], "bundle", "import", str(stick / "nothere.rhzb"))
    assert result.exit_code == 1
    assert_one_line_error(result, "nothere.rhzb", "cannot read it")


def test_a_file_larger_than_the_limit_is_refused(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused by its size, before the file is read into memory."""
    lima = homes["lima"]
    monkeypatch.setattr(bundles, "MAX_BUNDLE_BYTES", 100)
    monkeypatch.setattr(bundle_commands, "MAX_BUNDLE_BYTES", 100)
    reads: list[Path] = []
    read_bytes = Path.read_bytes

    def counting_read_bytes(self: Path) -> bytes:
        reads.append(self)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counting_read_bytes)
    before = counts(lima)
    result = invoke(lima, "bundle", "import", str(for_lima))
    assert result.exit_code == 1
    assert_one_line_error(result, str(for_lima), "larger than the bundle limit of 100 bytes")
    assert for_lima not in reads, "the file was read before its size was checked"
    assert counts(lima) == before


def test_a_bundle_from_a_node_that_is_not_a_peer_is_refused(
    invoke: Invoke, homes: dict[str, Path], stick: Path, tmp_path: Path
) -> None:
    """Quito lists Lima as a peer; Lima does not know Quito."""
    lima, quito = homes["lima"], homes["quito"]
    trust(quito, lima)
    add_lesson(invoke, quito, tmp_path, SHARED)
    file = stick / "from-quito.rhzb"
    export(invoke, quito, file, "Lima Hub")
    before = counts(lima)
    result = invoke(lima, "bundle", "import", str(file))
    assert result.exit_code == 1
    assert_one_line_error(result, "not an active peer")
    assert counts(lima) == before


def test_a_bundle_from_a_suspended_peer_is_refused(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path
) -> None:
    lima = homes["lima"]
    assert_clean_exit(invoke(lima, "peer", "suspend", "Nairobi Hub"))
    before = counts(lima)
    result = invoke(lima, "bundle", "import", str(for_lima))
    assert result.exit_code == 1
    assert_one_line_error(result, "not an active peer")
    assert counts(lima) == before
    assert_clean_exit(invoke(lima, "peer", "resume", "Nairobi Hub"))
    assert import_json(invoke, lima, for_lima)["stored"] == 2


# --- Export refusals -------------------------------------------------------------------------


def test_export_refuses_to_overwrite_an_existing_file(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path
) -> None:
    before = for_lima.read_bytes()
    result = invoke(homes["nairobi"], "bundle", "export", str(for_lima), "--for", "Lima Hub")
    assert result.exit_code == 1
    assert_one_line_error(result, str(for_lima), "already exists")
    assert for_lima.read_bytes() == before


def test_a_refused_export_leaves_the_delivery_ledger_as_it_was(
    invoke: Invoke, homes: dict[str, Path], lessons: list[str], stick: Path
) -> None:
    """Nothing left the node: the ledger must not say Lima got records, and no bundle may be
    remembered for ``--since``."""
    nairobi, lima = homes["nairobi"], homes["lima"]
    taken = stick / "taken.rhzb"
    taken.write_bytes(b"somebody else's file")
    result = invoke(nairobi, "bundle", "export", str(taken), "--for", "Lima Hub")
    assert_one_line_error(result, "already exists")
    assert sent_to(nairobi, lima) == set()
    with sqlite3.connect(nairobi / "rhizome.db") as conn:
        assert conn.execute("SELECT count(*) FROM bundles_sent").fetchone()[0] == 0


def test_export_into_a_folder_that_does_not_exist_is_one_error_line(
    invoke: Invoke, homes: dict[str, Path], lessons: list[str], stick: Path
) -> None:
    """The stick was not mounted, or the path is mistyped."""
    nairobi, lima = homes["nairobi"], homes["lima"]
    result = invoke(
        nairobi, "bundle", "export", str(stick / "no-such-folder" / "x.rhzb"),
        "--for", "Lima Hub",
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_line_error(result, "no-such-folder")
    assert sent_to(nairobi, lima) == set()
    with sqlite3.connect(nairobi / "rhizome.db") as conn:
        assert conn.execute("SELECT count(*) FROM bundles_sent").fetchone()[0] == 0


def test_export_for_an_unknown_or_suspended_peer_is_refused(
    invoke: Invoke, homes: dict[str, Path], lessons: list[str], stick: Path
) -> None:
    nairobi = homes["nairobi"]
    result = invoke(nairobi, "bundle", "export", str(stick / "a.rhzb"), "--for", "Nobody")
    assert_one_line_error(result, "no peer 'Nobody'")
    assert_clean_exit(invoke(nairobi, "peer", "suspend", "Lima Hub"))
    result = invoke(nairobi, "bundle", "export", str(stick / "b.rhzb"), "--for", "Lima Hub")
    assert_one_line_error(result, "Lima Hub is suspended", "resume it first")
    assert list(stick.iterdir()) == []


def test_only_admins_and_stewards_carry_bundles(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path, stick: Path
) -> None:
    nairobi, lima = homes["nairobi"], homes["lima"]
    add_member(invoke, nairobi, "amina")
    add_member(invoke, lima, "jun")
    result = invoke(
        nairobi, "bundle", "export", str(stick / "x.rhzb"), "--for", "Lima Hub",
        before=("--as", "amina"),
    )  # fmt: skip
    assert_one_line_error(result, "amina may not")
    result = invoke(lima, "bundle", "import", str(for_lima), before=("--as", "jun"))
    assert_one_line_error(result, "jun may not")
    assert stored_counts(lima)[0] == 0


# --- Incremental bundles ---------------------------------------------------------------------


HOUR = 3600


@pytest.fixture
def later(for_lima: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """After the first bundle, every command runs an hour later (times are whole seconds).
    Yields the real time the first bundle was made at, give or take a second."""
    real = time.time()
    monkeypatch.setattr(context, "Node", partial(Node, clock=lambda: time.time() + HOUR))
    yield real


def test_since_an_earlier_bundle_or_a_time_carries_only_newer_records(
    invoke: Invoke,
    homes: dict[str, Path],
    lessons: list[str],
    for_lima: Path,
    stick: Path,
    tmp_path: Path,
    later: float,
) -> None:
    nairobi, lima = homes["nairobi"], homes["lima"]
    new = add_lesson(invoke, nairobi, tmp_path, THIRD)

    by_file = stick / "since-file.rhzb"
    out = export(invoke, nairobi, by_file, "Lima Hub", "--since", str(for_lima))
    assert "1 record and 0 withdrawals" in out
    half_an_hour_on = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(later + HOUR / 2))
    by_time = stick / "since-time.rhzb"
    out = export(invoke, nairobi, by_time, "Lima Hub", "--since", half_an_hour_on)
    assert "1 record and 0 withdrawals" in out

    report = import_json(invoke, lima, by_file)
    assert (report["records"], report["stored"]) == (1, 1)
    listed = json.loads(invoke(lima, "lesson", "list", "--json").stdout)
    assert [item["id"] for item in listed] == [new]
    assert import_json(invoke, lima, by_time)["duplicates"] == 1
    assert import_json(invoke, lima, for_lima)["stored"] == 2


def test_since_a_file_this_node_did_not_export_is_one_error_line(
    invoke: Invoke, homes: dict[str, Path], lessons: list[str], stick: Path, tmp_path: Path
) -> None:
    nairobi = homes["nairobi"]
    notes = tmp_path / "notes.txt"
    notes.write_text("not a bundle")
    result = invoke(
        nairobi, "bundle", "export", str(stick / "x.rhzb"), "--for", "Lima Hub",
        "--since", str(notes),
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_line_error(result, "notes.txt", "not a bundle this node exported")
    result = invoke(
        nairobi, "bundle", "export", str(stick / "y.rhzb"), "--for", "Lima Hub",
        "--since", "last tuesday",
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_line_error(result, "--since", "ISO 8601")
    assert list(stick.iterdir()) == []


def test_since_a_bundle_made_for_another_peer_is_one_error_line(
    invoke: Invoke, homes: dict[str, Path], for_lima: Path, stick: Path
) -> None:
    """--since names a bundle this node made, but for Lima: it says nothing about Quito."""
    nairobi, quito = homes["nairobi"], homes["quito"]
    result = invoke(
        nairobi, "bundle", "export", str(stick / "for-quito.rhzb"), "--for", "Quito Hub",
        "--since", str(for_lima),
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_line_error(result, "for-lima.rhzb", "made for another peer")
    assert sorted(p.name for p in stick.iterdir()) == ["for-lima.rhzb"]
    assert sent_to(nairobi, quito) == set()
