"""Transactions: all of a write is stored, or none of it; nested writes are savepoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from archive.db import connect, transaction


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    opened = connect(tmp_path / "rhizome.db")
    opened.execute("CREATE TABLE notes (text TEXT)")
    yield opened
    opened.conn.close()


def notes(db: sqlite_utils.Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT text FROM notes ORDER BY rowid")]


def test_a_transaction_commits(db: sqlite_utils.Database) -> None:
    with transaction(db):
        db.execute("INSERT INTO notes VALUES ('kept')")
    assert notes(db) == ["kept"]
    assert not db.conn.in_transaction


def test_a_failure_rolls_everything_back(db: sqlite_utils.Database) -> None:
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO notes VALUES ('lost')")
        raise RuntimeError("boom")
    assert notes(db) == []
    assert not db.conn.in_transaction


def test_a_failed_inner_transaction_rolls_back_alone(db: sqlite_utils.Database) -> None:
    with transaction(db):
        db.execute("INSERT INTO notes VALUES ('first')")
        with pytest.raises(ValueError), transaction(db):
            db.execute("INSERT INTO notes VALUES ('bad')")
            raise ValueError("bad item")
        db.execute("INSERT INTO notes VALUES ('second')")
    assert notes(db) == ["first", "second"]


def test_an_outer_failure_undoes_committed_inner_work(db: sqlite_utils.Database) -> None:
    with pytest.raises(RuntimeError), transaction(db):
        with transaction(db):
            db.execute("INSERT INTO notes VALUES ('inner')")
        raise RuntimeError("outer fails")
    assert notes(db) == []
