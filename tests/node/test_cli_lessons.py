"""``rhizome lesson add/import/list/show/search`` on a real home, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import (
    Invoke,
    add_member,
    assert_clean_exit,
    last_line,
    stored_counts,
)

SUMMARY_KEYS = {"id", "title", "kind", "language", "region", "origin", "created", "sensitivity"}


@pytest.fixture
def home(make_home: HomeFactory) -> Path:
    return make_home()


def add(invoke: Invoke, home: Path, path: Path, *before: str) -> str:
    result = invoke(home, "lesson", "add", str(path), before=before)
    assert_clean_exit(result)
    return last_line(result.stdout)


def as_json(invoke: Invoke, home: Path, *args: str) -> Any:
    result = invoke(home, "lesson", *args, "--json")
    assert_clean_exit(result)
    return json.loads(result.stdout)


@pytest.fixture
def imported(invoke: Invoke, home: Path, samples: Path) -> Path:
    result = invoke(home, "lesson", "import", str(samples))
    assert_clean_exit(result)
    return home


def test_add_prints_the_record_id_as_last_line(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "one.md", {"title": "Debrief after the march", "kind": "story"})
    record_id = add(invoke, home, path)
    assert len(record_id) == 64
    assert int(record_id, 16) >= 0
    listed = as_json(invoke, home, "list")
    assert [item["id"] for item in listed] == [record_id]
    assert stored_counts(home) == (1, 1)


def test_add_uses_node_defaults_for_language_and_region(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    record_id = add(invoke, home, write_lesson(tmp_path, "one.md"))
    shown = as_json(invoke, home, "show", record_id)
    assert (shown["language"], shown["region"]) == ("en", "East Africa")
    assert shown["consent"]["scope"] == "local"
    assert shown["sensitivity"] == "low"


def test_add_prints_a_title_with_square_brackets_as_written(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    # Authors write "[draft]" in titles; the CLI must print it, not read it as rich markup.
    front = {"title": "Door rota [draft]", "kind": "checklist"}
    result = invoke(home, "lesson", "add", str(write_lesson(tmp_path, "draft.md", front)))
    assert_clean_exit(result)
    assert "Door rota [draft]" in result.stdout


def test_add_does_not_crash_on_a_closing_bracket_tag_in_the_title(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    front = {"title": "Checklist [/] v2", "kind": "checklist"}
    result = invoke(home, "lesson", "add", str(write_lesson(tmp_path, "slash.md", front)))
    assert_clean_exit(result)
    assert len(last_line(result.stdout)) == 64
    assert stored_counts(home) == (1, 1)


def test_list_json_has_the_documented_fields(invoke: Invoke, imported: Path) -> None:
    listed = as_json(invoke, imported, "list")
    assert len(listed) == 12
    for item in listed:
        assert set(item) >= SUMMARY_KEYS, item
        assert item["created"].endswith("Z")
    assert {item["language"] for item in listed} >= {"en", "es", "fr"}


def test_list_returns_every_lesson_unless_limited(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(75):
        write_lesson(folder, f"{number:03}.md", {"title": f"Lesson {number}", "kind": "story"})
    assert_clean_exit(invoke(home, "lesson", "import", str(folder)))
    assert len(as_json(invoke, home, "list")) == 75
    assert len(as_json(invoke, home, "list", "--limit", "7")) == 7


def test_list_limit_must_be_positive(invoke: Invoke, imported: Path) -> None:
    result = invoke(imported, "lesson", "list", "--limit", "0")
    assert result.exit_code != 0
    assert "--limit" in result.stderr


def test_list_table_shows_titles(invoke: Invoke, imported: Path) -> None:
    result = invoke(imported, "lesson", "list")
    assert_clean_exit(result)
    assert "whispered" in result.stdout.lower() or "interpret" in result.stdout.lower()
    assert len([line for line in result.stdout.splitlines() if line.strip()]) == 13


def test_list_on_empty_archive(invoke: Invoke, home: Path) -> None:
    assert as_json(invoke, home, "list") == []
    result = invoke(home, "lesson", "list")
    assert_clean_exit(result)
    assert "No lessons yet" in result.stdout


def test_show_json_adds_body_and_consent(invoke: Invoke, imported: Path) -> None:
    first = as_json(invoke, imported, "list")[0]
    shown = as_json(invoke, imported, "show", first["id"])
    assert SUMMARY_KEYS | {"body", "consent"} <= set(shown)
    assert shown["id"] == first["id"]
    assert shown["title"] == first["title"]
    assert shown["body"].strip()
    assert shown["consent"]["scope"] in {"local", "peers", "federation", "public"}


def test_show_by_prefix(invoke: Invoke, imported: Path) -> None:
    record_id = as_json(invoke, imported, "list")[3]["id"]
    assert as_json(invoke, imported, "show", record_id[:10])["id"] == record_id
    assert as_json(invoke, imported, "show", record_id[:10].upper())["id"] == record_id


def test_show_readable_output(invoke: Invoke, imported: Path) -> None:
    first = as_json(invoke, imported, "list")[0]
    result = invoke(imported, "lesson", "show", first["id"][:12])
    assert_clean_exit(result)
    assert first["title"] in result.stdout
    assert first["id"] in result.stdout


def test_show_unknown_id_is_one_clear_error(invoke: Invoke, imported: Path) -> None:
    result = invoke(imported, "lesson", "show", "abcdef0123")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "no record abcdef0123" in result.stderr


def test_search_folds_accents(invoke: Invoke, imported: Path) -> None:
    hits = as_json(invoke, imported, "search", "comunicacion")
    assert hits, "comunicacion should find comunicación in the Spanish samples"
    for hit in hits:
        assert set(hit) >= SUMMARY_KEYS
    assert {hit["language"] for hit in hits} == {"es"}
    assert any("comunicaci" in hit["snippet"].lower() for hit in hits)


def test_search_filters_by_kind(invoke: Invoke, imported: Path) -> None:
    hits = as_json(invoke, imported, "search", "consent", "--kind", "story")
    assert hits
    assert {hit["kind"] for hit in hits} == {"story"}


def test_search_without_match(invoke: Invoke, imported: Path) -> None:
    assert as_json(invoke, imported, "search", "zzyzxqvw") == []
    result = invoke(imported, "lesson", "search", "zzyzxqvw")
    assert_clean_exit(result)
    assert "No lessons match" in result.stdout


def test_import_samples_imports_all_twelve(invoke: Invoke, home: Path, samples: Path) -> None:
    result = invoke(home, "lesson", "import", str(samples))
    assert_clean_exit(result)
    assert "Stored 12, already here 0, updated 0, changed 0, refused 0." in result.stdout
    assert result.stderr.strip() == ""
    assert stored_counts(home) == (12, 12)


def _mixed_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "mixed"
    folder.mkdir()
    write_lesson(folder, "good-1.md", {"title": "Good one", "kind": "checklist"})
    write_lesson(folder, "good-2.md", {"title": "Good two", "kind": "story"})
    write_lesson(folder, "bad-kind.md", {"title": "Bad", "kind": "recipe"})
    write_lesson(folder, "no-title.md", {"kind": "story"})
    (folder / "no-front.md").write_text("# Just Markdown\n", encoding="utf-8")
    (folder / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\nkind: story\n---\nBody\n")
    (folder / "ignored.txt").write_text("not a lesson", encoding="utf-8")
    reasons = {
        "bad-kind.md": "'recipe' is not one of",
        "no-title.md": "field 'title'",
        "no-front.md": "no front matter",
        "latin1.md": "not UTF-8",
    }
    return folder, reasons


def test_import_keeps_good_files_and_reports_each_bad_one(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    folder, reasons = _mixed_folder(tmp_path)
    result = invoke(home, "lesson", "import", str(folder))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Stored 2, already here 0, updated 0, changed 0, refused 4." in result.stdout
    for name, reason in reasons.items():
        assert name in result.stderr, name
        assert reason in " ".join(result.stderr.split()), reason
    assert "ignored.txt" not in result.stderr
    titles = sorted(item["title"] for item in as_json(invoke, home, "list"))
    assert titles == ["Good one", "Good two"]
    assert stored_counts(home) == (2, 2)


def test_import_reports_each_bad_file_on_one_line(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    # stderr is a pipe here: each rejection must still be one greppable line "file: reason".
    folder, reasons = _mixed_folder(tmp_path)
    result = invoke(home, "lesson", "import", str(folder))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == len(reasons), lines
    for name, reason in reasons.items():
        assert any(name in line and reason in line for line in lines), (name, lines)


def test_import_with_only_bad_files_fails(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    write_lesson(folder, "bad-kind.md", {"title": "Bad", "kind": "recipe"})
    result = invoke(home, "lesson", "import", str(folder))
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "bad-kind.md" in result.stderr
    assert stored_counts(home) == (0, 0)


def test_import_survives_an_impossible_calendar_date(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "dates"
    folder.mkdir()
    write_lesson(folder, "good.md", {"title": "Good", "kind": "story"})
    (folder / "feb30.md").write_text(
        "---\ntitle: Bad date\nkind: story\nconsent:\n  expires: 2026-02-30\n---\nBody\n",
        encoding="utf-8",
    )
    result = invoke(home, "lesson", "import", str(folder))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"import crashed: {result.exception!r}"
    )
    assert "feb30.md" in result.stderr
    assert "Stored 1, already here 0, updated 0, changed 0, refused 1." in result.stdout
    assert stored_counts(home) == (1, 1)


def test_import_of_a_missing_folder_is_one_clear_error(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    result = invoke(home, "lesson", "import", str(tmp_path / "nowhere"))
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    assert "nowhere" in result.stderr


def test_new_version_hides_the_old_one_and_show_lists_history(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    first = add(
        invoke, home, write_lesson(tmp_path, "v1.md", {"title": "Rota v1", "kind": "checklist"})
    )
    other = add(
        invoke, home, write_lesson(tmp_path, "o.md", {"title": "Unrelated", "kind": "story"})
    )
    second = add(
        invoke,
        home,
        write_lesson(
            tmp_path, "v2.md", {"title": "Rota v2", "kind": "checklist", "supersedes": first[:12]}
        ),
    )
    listed = {item["id"] for item in as_json(invoke, home, "list")}
    assert listed == {second, other}
    shown = as_json(invoke, home, "show", second)
    assert shown["supersedes"] == first
    assert [version["id"] for version in shown["history"]] == [first, second]
    older = as_json(invoke, home, "show", first)
    assert [version["id"] for version in older["history"]] == [first, second]
    readable = invoke(home, "lesson", "show", second)
    assert_clean_exit(readable)
    assert "history" in readable.stdout
    assert first[:12] in readable.stdout and second[:12] in readable.stdout


def test_search_shows_only_the_newest_version(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    first = add(
        invoke, home, write_lesson(tmp_path, "v1.md", {"title": "Marshal rota", "kind": "story"})
    )
    second = add(
        invoke,
        home,
        write_lesson(
            tmp_path, "v2.md", {"title": "Marshal rota", "kind": "story", "supersedes": first}
        ),
    )
    assert [hit["id"] for hit in as_json(invoke, home, "search", "marshal")] == [second]


def test_superseding_twice_is_refused(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    first = add(invoke, home, write_lesson(tmp_path, "v1.md"))
    second = {"title": "B", "kind": "story", "supersedes": first}
    add(invoke, home, write_lesson(tmp_path, "v2.md", second))
    before = stored_counts(home)
    result = invoke(
        home,
        "lesson",
        "add",
        str(write_lesson(tmp_path, "v3.md", {"title": "C", "kind": "story", "supersedes": first})),
    )
    assert result.exit_code != 0
    assert "already superseded" in result.stderr
    assert stored_counts(home) == before


def test_as_option_sets_the_author(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    add_member(invoke, home, "amina")
    record_id = add(invoke, home, write_lesson(tmp_path, "one.md"), "--as", "amina")
    assert as_json(invoke, home, "show", record_id)["author"] == "amina"


def test_member_environment_sets_the_author(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    add_member(invoke, home, "kofi")
    path = write_lesson(tmp_path, "one.md")
    result = invoke(home, "lesson", "add", str(path), env={"RHIZOME_MEMBER": "kofi"})
    assert_clean_exit(result)
    assert as_json(invoke, home, "show", last_line(result.stdout))["author"] == "kofi"


def test_default_author_is_the_operator(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    record_id = add(invoke, home, write_lesson(tmp_path, "one.md"))
    assert as_json(invoke, home, "show", record_id)["author"] == "admin"


def test_import_as_member_sets_every_author(invoke: Invoke, home: Path, samples: Path) -> None:
    add_member(invoke, home, "lucia")
    result = invoke(home, "lesson", "import", str(samples), before=("--as", "lucia"))
    assert_clean_exit(result)
    assert {item["author"] for item in as_json(invoke, home, "list")} == {"lucia"}
