"""What an operator reads from the CLI: whole titles in a pipe, "N of M" in search, snippets
without Markdown marks, counted nouns, --json on policy commands, and init's warning."""

from __future__ import annotations

import json
from pathlib import Path

from archive.search import plain_snippet
from node.wording import plural
from tests.conftest import write_lesson
from tests.node.conftest import Invoke, assert_clean_exit

LONG_TITLE = "How the buddy system kept everyone together at the long night march downtown"


def add(invoke: Invoke, home: Path, tmp_path: Path, name: str, title: str, body: str) -> None:
    path = write_lesson(tmp_path, name, {"title": title, "kind": "checklist"}, body)
    assert_clean_exit(invoke(home, "lesson", "add", str(path)))


def test_piped_list_keeps_whole_titles(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    add(invoke, home, tmp_path, "a.md", LONG_TITLE, "Pairs.\n")
    result = invoke(home, "lesson", "list")  # CliRunner's output is a pipe, not a terminal
    assert_clean_exit(result)
    header, row = result.stdout.splitlines()
    assert header.split("\t") == ["id", "title", "kind", "lang", "created", "sensitivity"]
    assert row.split("\t")[1] == LONG_TITLE
    assert len(row.split("\t")[0]) == 64  # the whole id, for scripts


def test_search_says_how_many_of_how_many(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    for number in range(3):
        add(invoke, home, tmp_path, f"{number}.md", f"Water plan {number}", "Bring water.\n")
    result = invoke(home, "lesson", "search", "water", "--limit", "2")
    assert_clean_exit(result)
    assert result.stdout.splitlines()[0] == "2 of 3 lessons; --limit shows more"
    one = invoke(home, "lesson", "search", "water", "--limit", "3")
    assert one.stdout.splitlines()[0] == "3 of 3 lessons"


def test_snippets_show_words_not_markdown(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    body = "## Before the march\n\n**Bring** water and a [map](https://example.org).\n"
    add(invoke, home, tmp_path, "m.md", "Kit", body)
    result = invoke(home, "lesson", "search", "bring")
    assert_clean_exit(result)
    snippet = result.stdout.splitlines()[2]
    assert "#" not in snippet and "**" not in snippet and "](" not in snippet
    assert "Before the march Bring water and a map" in snippet


def test_plain_snippet_keeps_hit_marks_and_plain_stars() -> None:
    assert plain_snippet("…# Title \ue000word\ue001 2*3 *em* `code`") == (
        "…Title \ue000word\ue001 2*3 em code"
    )


def test_counted_nouns() -> None:
    assert plural(1, "record") == "1 record"
    assert plural(0, "record") == "0 records"
    assert plural(2, "log entry") == "2 log entries"


def test_verify_says_one_record(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    add(invoke, home, tmp_path, "a.md", "Only one", "Body.\n")
    result = invoke(home, "verify")
    assert_clean_exit(result)
    assert "Intact: 1 record and " in result.stdout


def test_policy_show_and_check_as_json(invoke: Invoke, home: Path) -> None:
    shown = invoke(home, "policy", "show", "--json")
    assert_clean_exit(shown)
    policy = json.loads(shown.stdout)
    assert policy["path"].endswith("policy.toml") and len(policy["hash"]) == 64
    assert "[" in policy["text"]
    checked = invoke(home, "policy", "check", "--json")
    assert_clean_exit(checked)
    assert json.loads(checked.stdout) == {
        "path": policy["path"], "valid": True, "hash": policy["hash"], "problems": [], "notes": [],
    }  # fmt: skip


def test_policy_check_json_reports_a_broken_file(invoke: Invoke, home: Path) -> None:
    broken = home / "broken.toml"
    broken.write_text("this is [not toml\n", encoding="utf-8")
    result = invoke(home, "policy", "check", str(broken), "--json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["valid"] is False and found["problems"] and found["hash"] is None


def test_init_without_a_terminal_warns_of_an_unsealed_key(invoke: Invoke, tmp_path: Path) -> None:
    home = tmp_path / "hub"
    result = invoke(home, "init", "--name", "Hub", "--region", "Somewhere")
    assert_clean_exit(result)
    assert "Warning: no terminal to type a passphrase, so the node key is NOT sealed" in (
        result.stderr
    )
    quiet = invoke(tmp_path / "other", "init", "--name", "Hub", "--region", "X", "--no-passphrase")
    assert_clean_exit(quiet)
    assert "Warning" not in quiet.stderr
