"""Helpers for the node-layer tests: run the CLI in-process and count what is stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archive.cipher import open_cipher_connection
from node.cli import main
from tests.sealed_helpers import database_key_of

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RHIZOME_* variable from the developer's shell may change a test's outcome."""
    for name in ("RHIZOME_HOME", "RHIZOME_MEMBER", "RHIZOME_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "80")  # what rich assumes on a pipe; fixed for every run


@pytest.fixture
def invoke() -> Invoke:
    """``invoke(home, "lesson", "list")`` runs ``rhizome --home HOME lesson list``."""
    runner = CliRunner()

    def run(
        home: Path | None,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        before: Sequence[str] = (),
    ) -> Result:
        prefix = ["--home", str(home)] if home is not None else []
        return runner.invoke(main, [*prefix, *before, *args], env=dict(env or {}))

    return run


# What `rhizome init` logs before anything else: the operator member "admin" was added.
INIT_EVENT = ("member.added", "admin")


def logged_events(home: Path, passphrase: str | None = None) -> list[tuple[int, str, str | None]]:
    """(seq, kind, subject) of every event-log entry, oldest first, read with plain sqlite3
    (a sealed home's database with SQLCipher and its ``passphrase``)."""
    sql = "SELECT seq, kind, subject FROM events ORDER BY seq"
    rows = _rows(home, sql, passphrase)
    return [(int(seq), str(kind), subject) for seq, kind, subject in rows]


def _rows(home: Path, sql: str, passphrase: str | None) -> list[tuple[Any, ...]]:
    if passphrase is None:
        with sqlite3.connect(home / "rhizome.db") as conn:
            return conn.execute(sql).fetchall()
    conn = open_cipher_connection(home / "rhizome.db", database_key_of(home, passphrase))
    try:
        return list(conn.execute(sql).fetchall())
    finally:
        conn.close()


def stored_counts(home: Path, passphrase: str | None = None) -> tuple[int, int]:
    """(records, events logged since init) in the home's database, read with plain sqlite3.

    Init logs one entry of its own first (the operator member, :data:`INIT_EVENT`); every
    entry after it counts, whatever its kind, so a fresh home is ``(0, 0)``.
    """
    events = logged_events(home, passphrase)
    assert events and events[0][1:] == INIT_EVENT, f"the log does not start with init: {events}"
    [(records,)] = _rows(home, "SELECT count(*) FROM records", passphrase)
    return int(records), len(events) - 1


def add_member(invoke: Invoke, home: Path, name: str, *roles: str) -> None:
    """``rhizome member add NAME --role ROLE…`` as the operator (default: role author)."""
    options = [item for role in roles or ("author",) for item in ("--role", role)]
    assert_clean_exit(invoke(home, "member", "add", name, *options))


def assert_clean_exit(result: Result) -> None:
    """Exit 0 with no exception escaping (CliRunner swallows tracebacks, so look at both)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"unexpected exception {result.exception!r}\n{result.output}"
    )
    assert result.exit_code == 0, result.output


def assert_one_line_error(result: Result, *needles: str) -> str:
    """A refused command: non-zero exit, no traceback, one ``Error:`` line naming each needle."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), (
        f"a traceback instead of a clear error: {result.exception!r}"
    )
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got {lines!r}"
    line = lines[0]
    assert line.startswith("Error: "), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1].strip()
