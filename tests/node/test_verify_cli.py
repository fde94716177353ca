"""``rhizome verify``: an intact home passes; a changed byte is caught and named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import HomeFactory
from tests.node.conftest import INIT_EVENT, Invoke, assert_clean_exit, logged_events


@pytest.fixture
def home(make_home: HomeFactory, invoke: Invoke, samples: Path) -> Path:
    made = make_home()
    assert_clean_exit(invoke(made, "lesson", "import", str(samples)))
    return made


def some_record_id(home: Path, offset: int = 5) -> str:
    with sqlite3.connect(home / "rhizome.db") as conn:
        row = conn.execute("SELECT id FROM records ORDER BY id LIMIT 1 OFFSET ?", [offset])
        return str(row.fetchone()[0])


def flip_envelope_byte(home: Path, record_id: str, position: int) -> None:
    with sqlite3.connect(home / "rhizome.db") as conn:
        envelope = bytearray(
            conn.execute("SELECT envelope FROM records WHERE id = ?", [record_id]).fetchone()[0]
        )
        envelope[position] ^= 0x01
        conn.execute("UPDATE records SET envelope = ? WHERE id = ?", [bytes(envelope), record_id])


def record_event_seq(home: Path, position: int) -> int:
    """The seq of the ``position``-th (from 0) record's arrival entry, after init's own."""
    events = logged_events(home)
    assert events[0][1:] == INIT_EVENT
    arrivals = [seq for seq, kind, _ in events if kind == "record.added"]
    assert arrivals == [seq for seq, _, _ in events[1:]], "only arrivals follow init"
    return arrivals[position]


def run_sql(home: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(home / "rhizome.db") as conn:
        assert conn.execute(sql, params).rowcount == 1


def verify_json(invoke: Invoke, home: Path) -> tuple[int, dict[str, object]]:
    result = invoke(home, "verify", "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, json.loads(result.stdout)


def test_intact_home_verifies(invoke: Invoke, home: Path) -> None:
    # The log holds init's entry (the operator member) and one arrival per record.
    assert [kind for _, kind, _ in logged_events(home)] == [INIT_EVENT[0]] + ["record.added"] * 12
    result = invoke(home, "verify")
    assert_clean_exit(result)
    assert "Intact: 12 records and 13 log entries verified." in result.stdout


def test_intact_home_json_report(invoke: Invoke, home: Path) -> None:
    code, report = verify_json(invoke, home)
    assert code == 0
    assert report == {
        "intact": True,
        "records_checked": 12,
        "events_checked": 1 + 12,  # init's entry, then one per record
        "problems": [],
    }


def test_empty_home_verifies(invoke: Invoke, make_home: HomeFactory) -> None:
    result = invoke(make_home(name="Empty Hub"), "verify")
    assert_clean_exit(result)


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_changed_envelope_byte_is_named(invoke: Invoke, home: Path, where: str) -> None:
    record_id = some_record_id(home)
    with sqlite3.connect(home / "rhizome.db") as conn:
        size = len(
            conn.execute("SELECT envelope FROM records WHERE id = ?", [record_id]).fetchone()[0]
        )
    flip_envelope_byte(home, record_id, {"start": 0, "middle": size // 2, "end": size - 1}[where])
    result = invoke(home, "verify")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert broken and all(record_id in line for line in broken), result.stdout
    others = {some_record_id(home, offset) for offset in range(12)} - {record_id}
    assert not any(other in result.stdout for other in others)


def test_changed_envelope_json_report(invoke: Invoke, home: Path) -> None:
    record_id = some_record_id(home)
    flip_envelope_byte(home, record_id, 100)
    code, report = verify_json(invoke, home)
    assert code != 0
    assert report["intact"] is False
    assert report["records_checked"] == 12
    problems = report["problems"]
    assert isinstance(problems, list) and problems
    assert {problem["item"] for problem in problems} == {f"record {record_id}"}
    assert all(problem["problem"] for problem in problems)


def test_changed_derived_column_is_named(invoke: Invoke, home: Path) -> None:
    record_id = some_record_id(home, 2)
    run_sql(home, "UPDATE records SET title = 'Forged title' WHERE id = ?", record_id)
    code, report = verify_json(invoke, home)
    assert code != 0
    assert report["intact"] is False
    problem = {
        "item": f"record {record_id}",
        "problem": "column 'title' differs from the signed record",
    }
    assert problem in report["problems"]


def test_changed_search_index_is_caught(invoke: Invoke, home: Path) -> None:
    record_id = some_record_id(home, 3)
    with sqlite3.connect(home / "rhizome.db") as conn:
        rowid = conn.execute("SELECT rowid FROM records WHERE id = ?", [record_id]).fetchone()[0]
    run_sql(home, "UPDATE records_fts SET body = 'planted words' WHERE rowid = ?", rowid)
    code, report = verify_json(invoke, home)
    assert code != 0
    assert [problem["item"] for problem in report["problems"]] == [f"record {record_id}"]


def test_changed_event_log_is_caught(invoke: Invoke, home: Path) -> None:
    seq = record_event_seq(home, 3)  # the fourth record's entry
    run_sql(home, 'UPDATE events SET detail = \'{"kind":"story"}\' WHERE seq = ?', seq)
    code, report = verify_json(invoke, home)
    assert code != 0
    assert report["intact"] is False
    assert {problem["item"] for problem in report["problems"]} == {f"event {seq}"}


def test_deleted_event_is_caught(invoke: Invoke, home: Path) -> None:
    seq = record_event_seq(home, 5)  # the sixth record's entry
    with sqlite3.connect(home / "rhizome.db") as conn:
        (record_id,) = conn.execute("SELECT subject FROM events WHERE seq = ?", [seq]).fetchone()
    run_sql(home, "DELETE FROM events WHERE seq = ?", seq)
    code, report = verify_json(invoke, home)
    assert code != 0
    assert report["intact"] is False
    # The chain breaks at the next entry, and the record lost the entry of its arrival.
    items = {problem["item"] for problem in report["problems"]}
    assert items == {f"event {seq + 1}", f"record {record_id}"}
