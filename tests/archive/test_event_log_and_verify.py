"""The hash-chained event log, and ``verify`` naming every tampered item.

Tampering is done the way an attacker with the database file but without the key would:
through a separate raw sqlite3 connection, re-signing nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
from contextlib import closing
from typing import Any

import pytest

from archive.event_log import GENESIS, Event, entry_hash, recent_events
from archive.record import Lesson
from archive.store import DERIVED_COLUMNS
from archive.verify import VerifyReport, verify_archive
from crypto.signing import EVENT_CONTEXT, SigningIdentity, verify_signature
from node.node import Node
from tests.conftest import FakeClock


def make_lesson(node: Node, **changes: Any) -> Lesson:
    lesson = Lesson(
        kind="checklist",
        title="Headcount before anyone leaves",
        body="Count against the buddy list.\n",
        language="en",
        region="East Africa",
        created=int(node.clock()),
        origin=node.public_key,
        author="admin",
        summary="The first five minutes.",
        tags=("safety",),
    )
    return dataclasses.replace(lesson, **changes)


@pytest.fixture
def three(node: Node, clock: FakeClock) -> list[str]:
    """Three lessons added a minute apart; their ids in order."""
    added = []
    for number, kind in enumerate(("checklist", "story", "case_study"), start=1):
        record = node.writer.add_lesson(make_lesson(node, title=f"Lesson {number}", kind=kind))
        added.append(record.id_hex)
        clock.advance(60)
    return added


def logged(node: Node) -> list[Event]:
    """Every entry of the event log, oldest first."""
    return list(reversed(recent_events(node.db, limit=1_000)))


def init_entry(node: Node) -> Event:
    """The entry init logs before anything else: the operator member "admin" was added."""
    first = logged(node)[0]
    assert (first.kind, first.subject) == ("member.added", "admin")
    return first


def seq_of(node: Node, record_id: str) -> int:
    """The seq of the entry that logged the arrival of ``record_id``."""
    rows = node.db.execute(
        "SELECT seq FROM events WHERE kind = 'record.added' AND subject = ?", [record_id]
    ).fetchall()
    assert len(rows) == 1, rows
    return int(rows[0][0])


def tamper(node: Node, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """Change the database file through a connection of its own, as an intruder would."""
    with closing(sqlite3.connect(node.paths.database)) as conn:
        changed = conn.execute(sql, params).rowcount
        conn.commit()
    assert changed >= 1, f"the tamper statement changed nothing: {sql}"


def verify(node: Node) -> VerifyReport:
    return verify_archive(node.db, node.public_key)


def items(report: VerifyReport) -> set[str]:
    return {problem["item"] for problem in report.problems}


def problems_of(report: VerifyReport, item: str) -> list[str]:
    return [problem["problem"] for problem in report.problems if problem["item"] == item]


# The event log


def test_a_new_home_logs_only_that_the_operator_was_added(node: Node) -> None:
    [entry] = logged(node)
    assert (entry.seq, entry.kind, entry.subject) == (1, "member.added", "admin")
    assert entry.detail == {"roles": ["admin"]}
    assert entry.prev == GENESIS


def test_each_add_appends_one_event_linked_to_the_one_before(node: Node, three: list[str]) -> None:
    first, *events = logged(node)
    assert first == init_entry(node)
    assert first.prev == GENESIS
    assert [event.seq for event in events] == [first.seq + 1, first.seq + 2, first.seq + 3]
    assert [event.subject for event in events] == three
    assert {event.kind for event in events} == {"record.added"}
    assert [event.detail for event in events] == [
        {"kind": "checklist"},
        {"kind": "story"},
        {"kind": "case_study"},
    ]
    for before, after in itertools.pairwise([first, *events]):
        assert after.prev == before.hash
    assert [event.at for event in events] == [
        events[0].at,
        events[0].at + 60,
        events[0].at + 120,
    ]


def test_each_event_is_hashed_and_signed_by_the_node(node: Node, three: list[str]) -> None:
    for event in recent_events(node.db):
        row = node.db.execute("SELECT detail FROM events WHERE seq = ?", [event.seq]).fetchone()
        assert event.hash == entry_hash(
            event.seq, event.at, event.kind, event.subject, row[0], event.prev
        )
        verify_signature(node.public_key, EVENT_CONTEXT, event.hash, event.signature)


def test_an_event_adds_no_lesson_content(node: Node) -> None:
    record = node.writer.add_lesson(make_lesson(node, title="Named participant Zawadi"))
    init, event = logged(node)
    assert init == init_entry(node)
    assert (event.kind, event.subject) == ("record.added", record.id_hex)
    row = node.db.execute("SELECT detail FROM events WHERE seq = ?", [event.seq]).fetchone()
    assert "Zawadi" not in row[0]


# Verify on an intact archive


def test_an_intact_archive_verifies(node: Node, three: list[str]) -> None:
    report = verify(node)
    assert report.intact
    assert report.problems == []
    # init's entry, then one per record
    assert (report.records_checked, report.events_checked) == (3, 1 + 3)
    assert report.events_checked == len(logged(node))


def test_an_empty_archive_verifies(node: Node) -> None:
    assert verify(node).intact


def test_verify_reports_progress_per_record(node: Node, three: list[str]) -> None:
    steps: list[int] = []
    verify_archive(node.db, node.public_key, steps.append)
    assert sum(steps) == 3


def test_verify_with_another_nodes_key_flags_every_event(
    node: Node, three: list[str], identity_b: SigningIdentity
) -> None:
    report = verify_archive(node.db, identity_b.public_key)
    every = {f"event {event.seq}" for event in logged(node)}
    assert len(every) == 1 + 3  # init's entry, then one per record
    assert items(report) == every


# Tampered records


def test_a_changed_byte_in_an_envelope_names_that_record(node: Node, three: list[str]) -> None:
    target = three[1]
    envelope = bytearray(
        node.db.execute("SELECT envelope FROM records WHERE id = ?", [target]).fetchone()[0]
    )
    envelope[envelope.index(b"Lesson 2") + 7] ^= 0x01  # "Lesson 2" becomes "Lesson 3"
    tamper(node, "UPDATE records SET envelope = ? WHERE id = ?", [bytes(envelope), target])
    report = verify(node)
    assert not report.intact
    assert items(report) == {f"record {target}"}


@pytest.mark.parametrize("position", [0, 1, 40, -1])
def test_a_changed_byte_anywhere_in_an_envelope_is_caught(
    node: Node, three: list[str], position: int
) -> None:
    target = three[0]
    envelope = bytearray(
        node.db.execute("SELECT envelope FROM records WHERE id = ?", [target]).fetchone()[0]
    )
    envelope[position] ^= 0x04
    tamper(node, "UPDATE records SET envelope = ? WHERE id = ?", [bytes(envelope), target])
    assert items(verify(node)) == {f"record {target}"}


def test_a_truncated_envelope_names_the_record(node: Node, three: list[str]) -> None:
    tamper(node, "UPDATE records SET envelope = substr(envelope, 1, 50) WHERE id = ?", [three[2]])
    assert items(verify(node)) == {f"record {three[2]}"}


TAMPERED_COLUMNS = {
    "kind": "action_brief",
    "title": "Lesson 2 (edited)",
    "summary": "Something else.",
    "language": "fr",
    "region": "Elsewhere",
    "tags": '["safety","extra"]',
    "sensitivity": "high",
    "scope": "public",
    "consent": "{}",
    "origin": "AAAAAAA-AAAAAAA",
    "author": "intruder",
    "created": 1,
    "supersedes": "00" * 32,
    "translation_of": "11" * 32,
}


@pytest.mark.parametrize("column", DERIVED_COLUMNS)
def test_a_changed_derived_column_names_the_record_and_the_column(
    node: Node, three: list[str], column: str
) -> None:
    target = three[1]
    value = TAMPERED_COLUMNS.get(column, "tampered")
    tamper(node, f"UPDATE records SET {column} = ? WHERE id = ?", [value, target])
    report = verify(node)
    assert items(report) == {f"record {target}"}
    assert any(f"'{column}'" in problem for problem in problems_of(report, f"record {target}"))


def test_a_changed_record_id_is_caught(node: Node, three: list[str]) -> None:
    forged = "ab" * 32
    tamper(node, "UPDATE records SET id = ? WHERE id = ?", [forged, three[0]])
    report = verify(node)
    assert f"record {forged}" in items(report)
    assert any("id" in problem for problem in problems_of(report, f"record {forged}"))


@pytest.mark.parametrize("column", ["title", "summary", "body", "tags"])
def test_a_changed_search_index_row_names_the_record(
    node: Node, three: list[str], column: str
) -> None:
    target = three[2]
    tamper(
        node,
        f"UPDATE records_fts SET {column} = 'planted words' "
        "WHERE rowid = (SELECT rowid FROM records WHERE id = ?)",
        [target],
    )
    report = verify(node)
    assert items(report) == {f"record {target}"}
    assert any("search index" in problem for problem in problems_of(report, f"record {target}"))


def test_a_deleted_search_index_row_names_the_record(node: Node, three: list[str]) -> None:
    tamper(
        node,
        "DELETE FROM records_fts WHERE rowid = (SELECT rowid FROM records WHERE id = ?)",
        [three[0]],
    )
    assert items(verify(node)) == {f"record {three[0]}"}


def test_a_planted_search_index_row_is_caught(node: Node, three: list[str]) -> None:
    tamper(
        node,
        "INSERT INTO records_fts (rowid, title, summary, body, tags) "
        "VALUES (9999, 'planted', '', 'planted body', '')",
    )
    report = verify(node)
    assert items(report) == {"search index"}


# Tampered event log


def test_a_deleted_event_breaks_the_chain(node: Node, three: list[str]) -> None:
    seq, after = seq_of(node, three[1]), seq_of(node, three[2])
    assert after == seq + 1
    tamper(node, "DELETE FROM events WHERE seq = ?", [seq])
    report = verify(node)
    # The chain breaks at the next entry, and the record lost the entry of its arrival.
    assert items(report) == {f"event {after}", f"record {three[1]}"}
    [*words] = problems_of(report, f"event {after}")
    assert any("missing" in problem for problem in words)
    assert any("link" in problem for problem in words)


def test_removing_the_newest_event_is_caught(node: Node, three: list[str]) -> None:
    # The event log promises that removing entries is caught by verify; the newest entry
    # has no successor to break, but the record it logged is still in the archive.
    newest = seq_of(node, three[2])
    assert newest == max(event.seq for event in logged(node))
    tamper(node, "DELETE FROM events WHERE seq = ?", [newest])
    assert not verify(node).intact


def test_a_deleted_init_entry_breaks_the_chain(node: Node, three: list[str]) -> None:
    first = init_entry(node)
    tamper(node, "DELETE FROM events WHERE seq = ?", [first.seq])
    report = verify(node)
    after = f"event {first.seq + 1}"
    assert items(report) == {after}
    words = problems_of(report, after)
    assert any("missing" in problem for problem in words)
    assert any("link" in problem for problem in words)


def test_an_edited_event_detail_is_caught(node: Node, three: list[str]) -> None:
    seq = seq_of(node, three[0])
    tamper(node, """UPDATE events SET detail = '{"kind":"story"}' WHERE seq = ?""", [seq])
    report = verify(node)
    assert items(report) == {f"event {seq}"}
    assert any("changed" in problem for problem in problems_of(report, f"event {seq}"))


@pytest.mark.parametrize(
    ("column", "value"),
    [("at", 0), ("kind", "record.purged"), ("subject", "ff" * 32), ("seq", 7)],
)
def test_an_edited_event_field_is_caught(
    node: Node, three: list[str], column: str, value: Any
) -> None:
    seq = seq_of(node, three[1])
    if column == "seq":  # moved to a free number, not onto another entry
        assert value not in {event.seq for event in logged(node)}
    tamper(node, f"UPDATE events SET {column} = ? WHERE seq = ?", [value, seq])
    assert not verify(node).intact


def test_an_edited_event_with_a_recomputed_hash_fails_its_signature(
    node: Node, three: list[str]
) -> None:
    target, after = seq_of(node, three[1]), seq_of(node, three[2])
    row = node.db.execute(
        "SELECT seq, at, kind, subject, prev FROM events WHERE seq = ?", [target]
    ).fetchone()
    seq, at, kind, subject, prev = row
    detail = '{"kind":"story","note":"edited"}'
    digest = entry_hash(seq, at, kind, subject, detail, prev)
    tamper(node, "UPDATE events SET detail = ?, hash = ? WHERE seq = ?", [detail, digest, seq])
    report = verify(node)
    assert any("signature" in problem for problem in problems_of(report, f"event {seq}"))
    assert any("link" in problem for problem in problems_of(report, f"event {after}"))


def test_an_event_signed_by_another_key_is_caught(
    node: Node, three: list[str], identity_b: SigningIdentity
) -> None:
    seq = seq_of(node, three[1])
    digest = node.db.execute("SELECT hash FROM events WHERE seq = ?", [seq]).fetchone()[0]
    forged = identity_b.sign(EVENT_CONTEXT, digest)
    tamper(node, "UPDATE events SET signature = ? WHERE seq = ?", [forged, seq])
    report = verify(node)
    assert items(report) == {f"event {seq}"}
    assert any("signature" in problem for problem in problems_of(report, f"event {seq}"))


def test_swapped_events_are_caught(node: Node, three: list[str]) -> None:
    one, two = seq_of(node, three[1]), seq_of(node, three[2])
    tamper(node, "UPDATE events SET seq = 100 WHERE seq = ?", [one])
    tamper(node, "UPDATE events SET seq = ? WHERE seq = ?", [one, two])
    tamper(node, "UPDATE events SET seq = ? WHERE seq = 100", [two])
    report = verify(node)
    assert {f"event {one}", f"event {two}"} <= items(report)
