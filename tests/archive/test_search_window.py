"""Search ranks a bounded window of the newest matches of a very common query, and widens it
when filters leave the page short."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import archive.search
from archive.queries import RecordFilters
from archive.record import Consent, Lesson
from archive.search import search
from archive.signed_record import sign_lesson
from archive.store import insert_record
from crypto.signing import SigningIdentity
from node.database import open_database
from tests.conftest import SEED_A, START

IDENTITY = SigningIdentity.from_seed(SEED_A)


def store(db: object, number: int, title: str, kind: str = "checklist") -> str:
    lesson = Lesson(
        kind=kind, title=title, body=f"Lesson {number} says common things.\n", language="en",
        region="East Africa", created=START + number, origin=IDENTITY.public_key,
        author="admin", consent=Consent(basis="consent", scope="federation"),
    )  # fmt: skip
    record = sign_lesson(IDENTITY, dataclasses.replace(lesson))
    insert_record(db, record, None, START)  # type: ignore[arg-type]
    return record.id_hex


@pytest.fixture
def archive_of_common_words(tmp_path: Path) -> tuple[object, str, list[str]]:
    db = open_database(tmp_path / "rhizome.db")
    best = store(db, 0, "Common common common common", kind="story")  # stored first: oldest
    newer = [store(db, number, f"Number {number}") for number in range(1, 13)]
    return db, best, newer


def test_a_common_query_ranks_only_the_newest_matches(
    archive_of_common_words: tuple[object, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, best, newer = archive_of_common_words
    assert search(db, "common", limit=1)[0].record.id == best  # type: ignore[arg-type]
    monkeypatch.setattr(archive.search, "RANKED_WINDOW", 5)
    hits = search(db, "common", limit=3)  # type: ignore[arg-type]
    assert best not in {hit.record.id for hit in hits}
    assert {hit.record.id for hit in hits} <= set(newer[-5:])


def test_the_window_widens_until_the_filters_fill_the_page(
    archive_of_common_words: tuple[object, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, best, _ = archive_of_common_words
    monkeypatch.setattr(archive.search, "RANKED_WINDOW", 2)
    hits = search(db, "common", RecordFilters(kind="story"))  # type: ignore[arg-type]
    assert [hit.record.id for hit in hits] == [best]
    assert len(search(db, "common", limit=20)) == 13  # type: ignore[arg-type]
