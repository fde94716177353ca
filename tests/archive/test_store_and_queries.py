"""Storing lessons (one transaction each) and reading them back: list, show, versions."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from archive.db import transaction
from archive.errors import AmbiguousRecordId, ArchiveError, InvalidLesson, UnknownRecord
from archive.queries import (
    count_records,
    history,
    latest_records,
    load_record,
    record_summary,
    resolve_record_id,
    translations,
)
from archive.record import Lesson
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import insert_record
from crypto.signing import SigningIdentity
from node.node import Node
from tests.conftest import START, FakeClock, write_lesson


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
        tags=("safety",),
    )
    return dataclasses.replace(lesson, **changes)


def counts(node: Node) -> tuple[int, int, int]:
    """Rows in records, in the full-text index and in the event log after init's entry.

    Init logs one entry first (the operator member "admin" was added, seq 1); every entry
    after it counts, whatever its kind, so a fresh home is ``(0, 0, 0)``.
    """
    first = node.db.execute("SELECT seq, kind, subject FROM events ORDER BY seq LIMIT 1")
    assert tuple(first.fetchone()) == (1, "member.added", "admin")
    records, indexed, events = (
        int(node.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in ("records", "records_fts", "events")
    )
    return records, indexed, events - 1


def ids(summaries: list[Any]) -> list[str]:
    return [summary.id for summary in summaries]


def test_add_then_list_and_show(node: Node) -> None:
    lesson = make_lesson(node, summary="In the first hour.", tags=("safety", "debrief"))
    record = node.writer.add_lesson(lesson)
    [listed] = latest_records(node.db)
    assert listed.id == record.id_hex
    assert (listed.title, listed.kind, listed.language) == (lesson.title, "checklist", "en")
    assert listed.tags == ["safety", "debrief"]
    assert listed.origin == node.node_id
    assert listed.created == START
    assert listed.received_from is None
    assert record_summary(node.db, record.id_hex) == listed
    assert load_record(node.db, record.id_hex).lesson == lesson
    assert counts(node) == (1, 1, 1)


def test_add_a_lesson_file(node: Node, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "headcount.md", body="Count everyone.\n")
    record = node.add_lesson_file(path)
    [listed] = latest_records(node.db)
    assert listed.id == record.id_hex
    assert listed.title == "A test lesson"
    assert load_record(node.db, record.id_hex).lesson.body == "Count everyone.\n"


def test_list_is_newest_first_and_takes_a_limit(node: Node, clock: FakeClock) -> None:
    added = []
    for number in range(3):
        added.append(node.writer.add_lesson(make_lesson(node, title=f"Lesson {number}")).id_hex)
        clock.advance(60)
    assert ids(latest_records(node.db)) == list(reversed(added))
    assert ids(latest_records(node.db, limit=2)) == list(reversed(added))[:2]
    assert count_records(node.db) == 3


def test_adding_the_same_lesson_twice_is_a_no_op(node: Node) -> None:
    first = node.writer.add_lesson(make_lesson(node))
    second = node.writer.add_lesson(make_lesson(node))
    assert first.id_hex == second.id_hex
    assert counts(node) == (1, 1, 1)


def test_a_failed_write_leaves_nothing_behind(node: Node) -> None:
    node.writer.add_lesson(make_lesson(node))
    before = counts(node)
    for field in ("supersedes", "translation_of"):
        with pytest.raises(InvalidLesson) as error:
            node.writer.add_lesson(make_lesson(node, title="Orphan", **{field: b"\x42" * 32}))
        assert error.value.field == field
    assert counts(node) == before
    assert node.db.execute("SELECT count(*) FROM records WHERE title = 'Orphan'").fetchone()[0] == 0


def test_a_failed_file_names_the_file_and_stores_nothing(node: Node, tmp_path: Path) -> None:
    front = {"title": "New version", "kind": "checklist", "supersedes": "abcd1234"}
    path = write_lesson(tmp_path, "v2.md", front)
    with pytest.raises(InvalidLesson) as error:
        node.add_lesson_file(path)
    assert str(error.value).startswith(f"{path}: field 'supersedes'")
    assert counts(node) == (0, 0, 0)


def test_a_new_version_replaces_the_old_one_in_the_list(node: Node, clock: FakeClock) -> None:
    v1 = node.writer.add_lesson(make_lesson(node, title="Headcount v1"))
    clock.advance(60)
    v2 = node.writer.add_lesson(make_lesson(node, title="Headcount v2", supersedes=v1.record_id))
    assert ids(latest_records(node.db)) == [v2.id_hex]
    assert count_records(node.db, latest_only=True) == 1
    assert count_records(node.db) == 2
    assert record_summary(node.db, v2.id_hex).supersedes == v1.id_hex


def test_history_lists_every_version_oldest_first(node: Node, clock: FakeClock) -> None:
    v1 = node.writer.add_lesson(make_lesson(node, title="v1"))
    clock.advance(60)
    v2 = node.writer.add_lesson(make_lesson(node, title="v2", supersedes=v1.record_id))
    clock.advance(60)
    v3 = node.writer.add_lesson(make_lesson(node, title="v3", supersedes=v2.record_id))
    expected = [v1.id_hex, v2.id_hex, v3.id_hex]
    for member in expected:
        assert ids(history(node.db, member)) == expected
    assert ids(latest_records(node.db)) == [v3.id_hex]


def test_a_lesson_with_one_version_has_a_history_of_one(node: Node) -> None:
    record = node.writer.add_lesson(make_lesson(node))
    assert ids(history(node.db, record.id_hex)) == [record.id_hex]


def test_superseding_an_already_superseded_version_is_refused(node: Node, clock: FakeClock) -> None:
    v1 = node.writer.add_lesson(make_lesson(node, title="v1"))
    clock.advance(60)
    v2 = node.writer.add_lesson(make_lesson(node, title="v2", supersedes=v1.record_id))
    before = counts(node)
    with pytest.raises(InvalidLesson, match="already superseded") as error:
        node.writer.add_lesson(make_lesson(node, title="v2 again", supersedes=v1.record_id))
    assert error.value.field == "supersedes"
    assert v2.id_hex[:12] in str(error.value)
    assert counts(node) == before


def _store_from_peer(node: Node, record: SignedRecord, peer: str) -> None:
    with transaction(node.db):
        assert insert_record(node.db, record, peer, START)


def test_superseding_a_record_of_another_origin_is_refused(
    node: Node, identity_b: SigningIdentity
) -> None:
    theirs = sign_lesson(
        identity_b, make_lesson(node, title="Their lesson", origin=identity_b.public_key)
    )
    _store_from_peer(node, theirs, identity_b.node_id)
    assert record_summary(node.db, theirs.id_hex).received_from == identity_b.node_id
    before = counts(node)
    with pytest.raises(InvalidLesson, match="origin") as error:
        node.writer.add_lesson(make_lesson(node, title="Ours now", supersedes=theirs.record_id))
    assert error.value.field == "supersedes"
    assert counts(node) == before


def test_translating_a_record_of_another_origin_is_allowed(
    node: Node, identity_b: SigningIdentity
) -> None:
    theirs = sign_lesson(
        identity_b, make_lesson(node, title="Their lesson", origin=identity_b.public_key)
    )
    _store_from_peer(node, theirs, identity_b.node_id)
    ours = node.writer.add_lesson(
        make_lesson(node, title="Su lección", language="es", translation_of=theirs.record_id)
    )
    assert ids(translations(node.db, theirs.id_hex)) == [ours.id_hex]


def test_translations_are_linked_both_ways(node: Node) -> None:
    original = node.writer.add_lesson(make_lesson(node, title="Whispered interpretation"))
    spanish = node.writer.add_lesson(
        make_lesson(
            node,
            title="Interpretación susurrada",
            language="es",
            translation_of=original.record_id,
        )
    )
    french = node.writer.add_lesson(
        make_lesson(
            node,
            title="Interprétation chuchotée",
            language="fr",
            translation_of=original.record_id,
        )
    )
    assert ids(translations(node.db, original.id_hex)) == [spanish.id_hex, french.id_hex]
    assert ids(translations(node.db, spanish.id_hex)) == [original.id_hex, french.id_hex]
    assert ids(translations(node.db, french.id_hex)) == [original.id_hex, spanish.id_hex]
    assert record_summary(node.db, spanish.id_hex).translation_of == original.id_hex


def test_a_lesson_without_translations_has_none(node: Node) -> None:
    record = node.writer.add_lesson(make_lesson(node))
    assert translations(node.db, record.id_hex) == []


def test_resolve_a_full_id_or_a_unique_prefix(node: Node) -> None:
    record = node.writer.add_lesson(make_lesson(node))
    full = record.id_hex
    assert resolve_record_id(node.db, full) == full
    assert resolve_record_id(node.db, full[:4]) == full
    assert resolve_record_id(node.db, full[:12].upper()) == full
    assert resolve_record_id(node.db, f"  {full[:8]}\n") == full


def _two_lessons_sharing_a_prefix(node: Node) -> tuple[Lesson, Lesson]:
    seen: dict[str, Lesson] = {}
    for number in range(5000):
        lesson = make_lesson(node, title=f"Lesson {number}")
        prefix = sign_lesson(node.identity, lesson).id_hex[:4]
        if prefix in seen:
            return seen[prefix], lesson
        seen[prefix] = lesson
    raise AssertionError("no shared prefix found")


def test_an_ambiguous_prefix_is_refused(node: Node) -> None:
    first, second = _two_lessons_sharing_a_prefix(node)
    one = node.writer.add_lesson(first).id_hex
    two = node.writer.add_lesson(second).id_hex
    assert one[:4] == two[:4] and one != two
    with pytest.raises(AmbiguousRecordId):
        resolve_record_id(node.db, one[:4])
    common = next(index for index in range(len(one)) if one[index] != two[index])
    assert resolve_record_id(node.db, one[: common + 1]) == one
    assert resolve_record_id(node.db, two[: common + 1]) == two


def test_an_unknown_id_is_refused(node: Node) -> None:
    record = node.writer.add_lesson(make_lesson(node))
    other = "0000" if not record.id_hex.startswith("0000") else "ffff"
    with pytest.raises(UnknownRecord):
        resolve_record_id(node.db, other)
    with pytest.raises(UnknownRecord):
        record_summary(node.db, other * 16)
    with pytest.raises(UnknownRecord):
        load_record(node.db, other * 16)


@pytest.mark.parametrize("text", ["", "abc", "xyz123", "12 34", "g000"])
def test_text_that_is_not_an_id_is_refused(node: Node, text: str) -> None:
    node.writer.add_lesson(make_lesson(node))
    with pytest.raises(ArchiveError, match="not a record id"):
        resolve_record_id(node.db, text)


def test_add_lessons_keeps_the_good_ones_and_rolls_back_the_bad_one(node: Node) -> None:
    good_one = make_lesson(node, title="Good one")
    orphan = make_lesson(node, title="Orphan", supersedes=b"\x42" * 32)
    good_two = make_lesson(node, title="Good two")
    outcomes = node.writer.add_lessons([("a.md", good_one), ("b.md", orphan), ("c.md", good_two)])
    assert [where for where, _ in outcomes] == ["a.md", "b.md", "c.md"]
    assert isinstance(outcomes[0][1], SignedRecord)
    assert isinstance(outcomes[1][1], InvalidLesson)
    assert outcomes[1][1].field == "supersedes"
    assert isinstance(outcomes[2][1], SignedRecord)
    assert sorted(summary.title for summary in latest_records(node.db)) == ["Good one", "Good two"]
    assert counts(node) == (2, 2, 2)


def test_add_lessons_rolls_back_a_version_conflict_inside_the_batch(
    node: Node, clock: FakeClock
) -> None:
    v1 = node.writer.add_lesson(make_lesson(node, title="v1"))
    clock.advance(60)
    first = make_lesson(node, title="v2 by Amina", supersedes=v1.record_id)
    second = make_lesson(node, title="v2 by Diego", supersedes=v1.record_id)
    outcomes = node.writer.add_lessons([("amina.md", first), ("diego.md", second)])
    assert isinstance(outcomes[0][1], SignedRecord)
    assert isinstance(outcomes[1][1], InvalidLesson)
    assert [summary.title for summary in latest_records(node.db)] == ["v2 by Amina"]
    assert counts(node) == (2, 2, 2)


def test_add_lessons_reports_a_lesson_that_breaks_a_rule_and_keeps_the_rest(node: Node) -> None:
    # add_lessons promises: "A lesson that breaks a rule is reported and rolled back alone".
    good = make_lesson(node, title="Good one")
    untitled = make_lesson(node, title="")
    outcomes = node.writer.add_lessons([("good.md", good), ("untitled.md", untitled)])
    assert isinstance(outcomes[0][1], SignedRecord)
    assert isinstance(outcomes[1][1], InvalidLesson)
    assert outcomes[1][1].field == "title"
    assert counts(node) == (1, 1, 1)
