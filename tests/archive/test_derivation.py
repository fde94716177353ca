"""Versions and translations as the archive reads them (archive.derivation, issue 11 items
2, 4 and 5): which records bound a record's consent, what a revocation purges with the
withdrawn record, what it refuses later, and that only the same origin can supersede."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.db import connect, transaction
from archive.derivation import (
    all_consent_bounds,
    consent_bounds,
    dependents_of,
    foreign_supersede,
    may_supersede_origin,
    withdrawn_link,
)
from archive.queries import history, latest_records
from archive.record import Consent, Lesson
from archive.signed_record import SignedRecord, sign_lesson
from archive.store import insert_record
from archive.tombstones import is_tombstoned, store_revocation
from crypto.signing import SigningIdentity

A = SigningIdentity.from_seed(bytes(range(32)))
B = SigningIdentity.from_seed(bytes(range(32, 64)))
C = SigningIdentity.from_seed(bytes(range(64, 96)))
START = 1_780_000_000


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Any]:
    database = connect(tmp_path / "archive.db")
    yield database
    database.conn.close()


_count = iter(range(1_000_000))


def signed(origin: SigningIdentity, title: str = "", **changes: Any) -> SignedRecord:
    n = next(_count)
    lesson = Lesson(
        kind="story", title=title or f"Lesson {n}", body="Body.\n", language="en",
        region="Andes", created=START + n, origin=origin.public_key, author="admin",
        consent=Consent("consent", "federation", reshare=True),
    )  # fmt: skip
    return sign_lesson(origin, dataclasses.replace(lesson, **changes))


def held(db: Any, *records: SignedRecord) -> None:
    with transaction(db):
        for record in records:
            insert_record(db, record, None, START)


def bound_map(db: Any, record: SignedRecord) -> dict[str, str]:
    return {row.record_id: row.relation for row in consent_bounds(db, record.id_hex)}


def test_only_the_same_origin_may_supersede() -> None:
    assert may_supersede_origin(A.node_id, A.node_id)
    assert not may_supersede_origin(A.node_id, B.node_id)


def test_a_superseded_version_is_bounded_by_every_later_one_not_the_other_way(db: Any) -> None:
    v1 = signed(A)
    v2 = signed(A, supersedes=v1.record_id)
    v3 = signed(A, supersedes=v2.record_id)
    held(db, v1, v2, v3)
    assert bound_map(db, v1) == {v2.id_hex: "later", v3.id_hex: "later"}
    assert bound_map(db, v2) == {v3.id_hex: "later"}
    assert bound_map(db, v3) == {}


def test_a_translation_is_bounded_by_its_original_and_the_originals_later_versions(
    db: Any,
) -> None:
    v1 = signed(A)
    v2 = signed(A, supersedes=v1.record_id)
    spanish = signed(B, language="es", translation_of=v1.record_id)
    spanish_2 = signed(B, language="es", supersedes=spanish.record_id)  # drops the link
    of_spanish = signed(C, language="pt", translation_of=spanish_2.record_id)
    held(db, v1, v2, spanish, spanish_2, of_spanish)
    assert bound_map(db, spanish) == {
        v1.id_hex: "original", v2.id_hex: "original", spanish_2.id_hex: "later",
    }  # fmt: skip
    # A new version of a translation stays bound by the original, link or not.
    assert bound_map(db, spanish_2) == {v1.id_hex: "original", v2.id_hex: "original"}
    assert bound_map(db, of_spanish) == {
        spanish_2.id_hex: "original", v1.id_hex: "original", v2.id_hex: "original",
    }  # fmt: skip
    # The original is not bounded by its translations.
    assert bound_map(db, v1) == {v2.id_hex: "later"}


def test_a_translation_of_an_original_we_do_not_hold_is_bounded_by_an_unknown(db: Any) -> None:
    absent = signed(A)
    translation = signed(B, translation_of=absent.record_id)
    held(db, translation)
    [row] = consent_bounds(db, translation.id_hex)
    assert (row.record_id, row.relation, row.consent_json) == (absent.id_hex, "unknown", None)


def test_a_supersedes_link_across_origins_bounds_nothing_and_hides_nothing(db: Any) -> None:
    original = signed(A, title="The origin's lesson")
    hijack = signed(B, title="A hijack", supersedes=original.record_id)
    held(db, original, hijack)
    assert bound_map(db, original) == {} and bound_map(db, hijack) == {}
    assert {summary.id for summary in latest_records(db)} == {original.id_hex, hijack.id_hex}
    assert [summary.id for summary in history(db, hijack.id_hex)] == [hijack.id_hex]
    assert [summary.id for summary in history(db, original.id_hex)] == [original.id_hex]
    assert foreign_supersede(db, hijack.lesson) == A.node_id
    assert foreign_supersede(db, original.lesson) is None
    own = signed(A, supersedes=original.record_id)
    assert foreign_supersede(db, own.lesson) is None


def test_a_supersede_of_a_record_not_held_is_not_judged(db: Any) -> None:
    absent = signed(A)
    assert foreign_supersede(db, signed(B, supersedes=absent.record_id).lesson) is None


def test_dependents_are_translations_of_any_origin_and_versions_by_the_same_origin(
    db: Any,
) -> None:
    original = signed(A)
    translation = signed(B, translation_of=original.record_id)
    its_version = signed(B, supersedes=translation.record_id)
    its_translation = signed(C, translation_of=its_version.record_id)
    hijack = signed(C, supersedes=original.record_id)  # another origin's "version"
    unrelated = signed(B)
    held(db, original, translation, its_version, its_translation, hijack, unrelated)
    found = dependents_of(db, [original.id_hex], A.node_id)
    assert found == sorted(
        [
            (translation.id_hex, B.node_id),
            (its_version.id_hex, B.node_id),
            (its_translation.id_hex, C.node_id),
        ]
    )
    # A named id held from another origin is not withdrawn: nothing derives from it.
    assert dependents_of(db, [original.id_hex], C.node_id) == []


def revoke(db: Any, origin: SigningIdentity, *records: SignedRecord, rid: str = "") -> list[str]:
    with transaction(db):
        return store_revocation(
            db, rid or "ee" * 32, b"signed", origin.node_id, START, "safety",
            tuple(record.id_hex for record in records), None, START,
        )  # fmt: skip


def test_a_revocation_purges_what_derives_from_the_record_and_tombstones_it(db: Any) -> None:
    original = signed(A)
    translation = signed(B, translation_of=original.record_id)
    version_of_it = signed(B, supersedes=translation.record_id)
    unrelated = signed(B)
    held(db, original, translation, version_of_it, unrelated)

    purged = revoke(db, A, original)

    assert purged == [original.id_hex, *sorted([translation.id_hex, version_of_it.id_hex])]
    remaining = [str(row[0]) for row in db.execute("SELECT id FROM records")]
    assert remaining == [unrelated.id_hex]
    assert int(db.execute("SELECT count(*) FROM records_fts").fetchone()[0]) == 1
    # Each derived copy is tombstoned under its own origin: a copy arriving later is stale.
    assert is_tombstoned(db, translation.id_hex, B.node_id)
    assert is_tombstoned(db, version_of_it.id_hex, B.node_id)
    assert not is_tombstoned(db, translation.id_hex, A.node_id)


def test_derived_records_arriving_after_the_withdrawal_are_refused(db: Any) -> None:
    original = signed(A)
    translation = signed(B, translation_of=original.record_id)
    held(db, original, translation)
    revoke(db, A, original)
    late_translation = signed(C, translation_of=original.record_id)
    of_purged = signed(C, translation_of=translation.record_id)
    version_of_purged = signed(B, supersedes=translation.record_id)
    version_of_original = signed(A, supersedes=original.record_id)
    for lesson in (late_translation, of_purged, version_of_purged, version_of_original):
        assert withdrawn_link(db, lesson.lesson) == "ee" * 32
    assert withdrawn_link(db, signed(C).lesson) is None


def test_a_version_is_not_refused_for_another_origins_tombstone(db: Any) -> None:
    """A peer naming A's record in a revocation of its own withdraws nothing of A's: not the
    record, not A's later versions of it."""
    absent = signed(A)
    revoke(db, C, absent)
    assert withdrawn_link(db, signed(A, supersedes=absent.record_id).lesson) is None
    later = signed(A, supersedes=absent.record_id)
    held(db, later)
    assert revoke(db, C, absent, rid="dd" * 32) == []


def test_the_batched_bounds_equal_the_bounds_of_each_record(db: Any) -> None:
    v1 = signed(A)
    v2 = signed(A, supersedes=v1.record_id)
    translation = signed(B, translation_of=v1.record_id)
    orphan = signed(C, translation_of=signed(A).record_id)
    hijack = signed(C, supersedes=v2.record_id)
    lone = signed(B)
    held(db, v1, v2, translation, orphan, hijack, lone)
    batched = all_consent_bounds(db)
    for record in (v1, v2, translation, orphan, hijack, lone):
        expected = consent_bounds(db, record.id_hex)
        assert sorted(batched.get(record.id_hex, []), key=lambda row: row.record_id) == expected


# --- Property: adding a version or a translation never removes a bound ------------------

ORIGINS = (A, B, C)
links = st.lists(
    st.tuples(
        st.integers(0, 2),  # origin
        st.sampled_from(("none", "supersedes", "translation_of", "both")),
        st.integers(0, 30),  # which earlier record (modulo how many there are)
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=9,
)


def build(
    db: Any, plan: list[tuple[int, str, int, int]], records: list[SignedRecord]
) -> list[SignedRecord]:
    """Add one record per step, each maybe a version and/or translation of an earlier one
    (of any origin: cross-origin supersedes included, as a hostile peer would send)."""
    for origin, link, first, second in plan:
        changes: dict[str, Any] = {}
        if records and link in ("supersedes", "both"):
            changes["supersedes"] = records[first % len(records)].record_id
        if records and link in ("translation_of", "both"):
            changes["translation_of"] = records[second % len(records)].record_id
        record = signed(ORIGINS[origin], **changes)
        held(db, record)
        records.append(record)
    return records


def bound_sets(db: Any) -> dict[str, set[tuple[str, str | None]]]:
    return {
        root: {(row.record_id, row.consent_json) for row in rows}
        for root, rows in all_consent_bounds(db).items()
    }


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=links, last=links)
def test_adding_a_version_or_translation_never_removes_a_bound(
    tmp_path: Path, plan: list[tuple[int, str, int, int]], last: list[tuple[int, str, int, int]]
) -> None:
    path = tmp_path / f"prop-{next(_count)}.db"
    database = connect(path)
    try:
        records = build(database, plan, [])
        before = bound_sets(database)
        build(database, last, records)
        after = bound_sets(database)
        for root, bounds in before.items():
            assert bounds <= after.get(root, set()), root
    finally:
        database.conn.close()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=links, absent=st.integers(0, 3))
def test_the_batched_walk_agrees_with_the_walk_in_sql(
    tmp_path: Path, plan: list[tuple[int, str, int, int]], absent: int
) -> None:
    """Offers use the in-memory walk over the whole archive, explain the SQL one: the same
    bounds for every record, whatever the links (originals we lack included)."""
    database = connect(tmp_path / f"agree-{next(_count)}.db")
    try:
        missing = [signed(A) for _ in range(absent)]  # translated, never held
        records = build(database, plan, list(missing))[absent:]
        batched = all_consent_bounds(database)
        for record in records:
            assert batched.get(record.id_hex, []) == consent_bounds(database, record.id_hex)
    finally:
        database.conn.close()
