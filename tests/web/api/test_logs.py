"""Structured logs: one JSON object per line with ``--log-json``; ids and counts, never what
a lesson says."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from node.cli import main as rhizome
from node.node import Node
from node.web.json_logs import JsonFormatter, TextFormatter, configure_logging
from tests.conftest import START
from tests.web.conftest import LESSON, Client, basic, json_of

SECRET = {
    "title": "Meeting point behind the bakery on Ngong Road",
    "summary": "Only for the core team",
    "body": "Knock twice at the blue door.\n",
}
NOTE = "her family asked us to take it down"


def log_record(message: str = "lesson added", **extra: Any) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "rhizome.api", "levelno": logging.INFO, "levelname": "INFO", "msg": message}
    )
    record.created = START
    record.__dict__.update(extra)
    return record


def test_a_json_line_holds_the_base_keys_then_the_extras() -> None:
    line = JsonFormatter().format(log_record(record="ab" * 32, records=3, member="amina"))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-05-28T20:26:40.000Z",
        "level": "INFO",
        "logger": "rhizome.api",
        "message": "lesson added",
        "record": "ab" * 32,
        "records": 3,
        "member": "amina",
    }


def test_an_extra_never_replaces_a_base_key() -> None:
    entry = json.loads(JsonFormatter().format(log_record(level="custom", time=1)))
    assert (entry["level"], entry["extra_level"], entry["extra_time"]) == ("INFO", "custom", 1)


def test_an_exception_stays_on_the_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = log_record("failed", exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert "Traceback" in entry["exception"] and "ValueError: boom" in entry["exception"]


def test_values_json_cannot_hold_are_written_as_text() -> None:
    entry = json.loads(JsonFormatter().format(log_record(where=Path("/srv/hub"), ids={"a"})))
    assert entry["where"] == "/srv/hub" and entry["ids"] == "{'a'}"


def test_text_lines_end_with_the_extras() -> None:
    line = TextFormatter().format(log_record(record="abc", records=2))
    assert line.endswith("INFO rhizome.api: lesson added record=abc records=2")


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was (pytest's own handlers included)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    access = logging.getLogger("aiohttp.access").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(access)


@pytest.mark.usefixtures("root_logging")
def test_configured_twice_it_still_writes_each_line_once() -> None:
    stream = io.StringIO()
    configure_logging(as_json=True, stream=stream)
    configure_logging(as_json=True, stream=stream)
    logging.getLogger("rhizome.test").info("synced", extra={"peer": "n1", "received": 4})
    logging.getLogger("rhizome.test").debug("not at the default level")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["logger"], entry["message"], entry["peer"], entry["received"]) == (
        "rhizome.test", "synced", "n1", 4,
    )  # fmt: skip


def test_serve_has_the_log_json_option() -> None:
    result = CliRunner().invoke(rhizome, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--log-json" in result.output


@pytest.mark.usefixtures("root_logging")
async def test_the_api_logs_ids_never_what_a_lesson_says(client: Client, members: Node) -> None:
    """As ``rhizome serve --log-json`` logs, and at DEBUG too."""
    stream = io.StringIO()
    configure_logging(as_json=True, stream=stream)
    logging.getLogger().setLevel(logging.DEBUG)
    added = await client.post("/api/v1/lessons", json={**LESSON, **SECRET}, headers=basic("amina"))
    record_id = (await json_of(added, 201))["id"]
    await json_of(
        await client.post(f"/api/v1/lessons/{record_id}/approve", json={}, headers=basic("chidi"))
    )
    await client.get(f"/api/v1/lessons/{record_id}")
    await client.get("/api/v1/lessons", params={"q": "bakery"})
    bad = {**LESSON, **SECRET, "kind": "poem"}
    assert (await client.post("/api/v1/lessons", json=bad, headers=basic("amina"))).status == 400
    revoked = await client.post(
        f"/api/v1/lessons/{record_id}/revoke",
        json={"reason": "consent-withdrawn", "note": NOTE},
        headers=basic("amina"),
    )
    await json_of(revoked)

    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["message"] for e in entries if e.get("record") == record_id] == [
        "lesson added", "lesson approved", "lesson revoked",
    ]  # fmt: skip
    for needle in (*SECRET.values(), NOTE, "bakery", "Ngong"):
        leaked = [line for line in lines if needle.strip() in line]
        assert not leaked, f"{needle!r} was logged: {leaked}"
