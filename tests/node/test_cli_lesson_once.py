"""``lesson add`` and ``lesson import`` take each lesson in once: the same lesson again is
"already here", a changed file is a new version only with ``--update``, ``--dry-run``
stores nothing, ``--recursive`` reads subfolders, and nothing is skipped without a word."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from archive.queries import record_summary
from node.node import Node
from tests.conftest import write_lesson
from tests.node.conftest import Invoke, assert_clean_exit, stored_counts


def summary(output: str) -> str:
    found = re.search(r"(Stored|It would have: stored) [^\n]*refused [\d,]+\.", output)
    assert found, output
    return found.group(0).removeprefix("It would have: ").capitalize()


def test_adding_the_same_file_twice_stores_it_once(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    path = write_lesson(tmp_path, "water.md", {"title": "Water at the march", "kind": "checklist"})
    first = invoke(home, "lesson", "add", str(path))
    assert_clean_exit(first)
    record_id = first.stdout.split()[-1]
    copy = tmp_path / "elsewhere" / "copy.md"
    copy.parent.mkdir()
    # Saved again with other line ends and another YAML spelling: still the same lesson.
    copy.write_bytes(
        b'---\r\nkind: checklist\r\ntitle: "Water at the march"\r\n---\r\nBody.\r\n'
    )
    for again in (path, copy):
        result = invoke(home, "lesson", "add", str(again))
        assert_clean_exit(result)
        assert "Already here: Water at the march (nothing stored)" in result.stdout
        assert result.stdout.split()[-1] == record_id
    assert stored_counts(home) == (1, 1)


def test_a_changed_file_is_a_new_version_only_with_update(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    front = {"title": "Water at the march", "kind": "checklist"}
    path = write_lesson(tmp_path, "water.md", front, "Bring water.\n")
    first = invoke(home, "lesson", "add", str(path)).stdout.split()[-1]
    write_lesson(tmp_path, "water.md", front, "Bring water and salt.\n")
    refused = invoke(home, "lesson", "add", str(path))
    assert refused.exit_code == 1
    assert f"changed since it was stored as {first[:12]}: use --update" in refused.stderr
    assert stored_counts(home) == (1, 1)
    dry = invoke(home, "lesson", "add", str(path), "--update", "--dry-run")
    assert_clean_exit(dry)
    assert f"would add Water at the march as a new version of {first[:12]}" in dry.stdout
    assert stored_counts(home) == (1, 1)
    updated = invoke(home, "lesson", "add", str(path), "--update")
    assert_clean_exit(updated)
    assert "Added a new version of Water at the march" in updated.stdout
    second = updated.stdout.split()[-1]
    node = Node(home)
    try:
        assert record_summary(node.db, second).supersedes == first
    finally:
        node.close()
    # Moved to another folder and changed again: the same name, title and author find it.
    moved = tmp_path / "moved"
    moved.mkdir()
    write_lesson(moved, "water.md", front, "Bring water, salt and a hat.\n")
    result = invoke(home, "lesson", "import", str(moved))
    assert "changed 1" in result.stdout
    assert f"stored before as {second[:12]}; use --update" in result.stderr
    result = invoke(home, "lesson", "import", str(moved), "--update")
    assert_clean_exit(result)
    assert summary(result.stdout) == "Stored 0, already here 0, updated 1, changed 0, refused 0."
    assert f"a new version of {second[:12]}" in result.stderr


def test_import_reads_every_spelling_and_says_what_it_skipped(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "lessons"
    (folder / "2025" / "spring").mkdir(parents=True)
    (folder / ".git").mkdir()
    write_lesson(folder, "a.md", {"title": "A", "kind": "story"})
    write_lesson(folder, "b.MD", {"title": "B", "kind": "story"})
    write_lesson(folder, "c.markdown", {"title": "C", "kind": "story"})
    write_lesson(folder / "2025", "d.md", {"title": "D", "kind": "story"})
    write_lesson(folder / "2025" / "spring", "e.Markdown", {"title": "E", "kind": "story"})
    write_lesson(folder / ".git", "hidden.md", {"title": "Hidden", "kind": "story"})
    (folder / "notes.txt").write_text("not a lesson", encoding="utf-8")

    flat = invoke(home, "lesson", "import", str(folder), "--dry-run")
    assert_clean_exit(flat)
    assert summary(flat.stdout) == "Stored 3, already here 0, updated 0, changed 0, refused 0."
    assert "Dry run, nothing was stored." in flat.stdout
    assert (
        "Skipped 1 subfolder (use --recursive to read them) and 1 file that is not a lesson "
        "(.md, .markdown)." in flat.stdout
    )
    assert stored_counts(home) == (0, 0)

    deep = invoke(home, "lesson", "import", str(folder), "--recursive")
    assert_clean_exit(deep)
    assert summary(deep.stdout) == "Stored 5, already here 0, updated 0, changed 0, refused 0."
    assert stored_counts(home) == (5, 5)
    again = invoke(home, "lesson", "import", str(folder), "--recursive", "--dry-run")
    assert summary(again.stdout) == "Stored 0, already here 5, updated 0, changed 0, refused 0."


def test_a_dry_run_counts_copies_within_the_folder_once(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    for name in ("one.md", "same-again.md"):
        write_lesson(folder, name, {"title": "Same", "kind": "story"}, "Same text.\n")
    planned = invoke(home, "lesson", "import", str(folder), "--dry-run")
    done = invoke(home, "lesson", "import", str(folder))
    expected = "Stored 1, already here 1, updated 0, changed 0, refused 0."
    assert summary(planned.stdout) == summary(done.stdout) == expected
    assert stored_counts(home) == (1, 1)


def test_a_dry_run_opens_no_signing_key(invoke: Invoke, make_home: Any, tmp_path: Path) -> None:
    """A sealed home's passphrase opens its database; a dry run signs nothing."""
    sealed = make_home(name="Sealed Hub", passphrase="a sealed passphrase")
    path = write_lesson(tmp_path, "x.md", {"title": "X", "kind": "story"})
    env = {"RHIZOME_PASSPHRASE": "a sealed passphrase"}
    result = invoke(sealed, "lesson", "add", str(path), "--dry-run", env=env)
    assert_clean_exit(result)
    assert "Dry run: would add X. Nothing was stored." in result.stdout
