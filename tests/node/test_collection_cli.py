"""``rhizome collection``: create, add, remove, show, list and export, as an operator types them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import write_lesson
from tests.node.conftest import (
    Invoke,
    add_member,
    assert_clean_exit,
    assert_one_line_error,
    stored_counts,
)


def lesson_ids(invoke: Invoke, home: Path, tmp_path: Path, scopes: list[str]) -> list[str]:
    ids = []
    for number, scope in enumerate(scopes):
        front = {"title": f"Lesson {number} ({scope})", "kind": "checklist",
                 "consent": {"scope": scope}}  # fmt: skip
        path = write_lesson(tmp_path, f"l{number}.md", front)
        result = invoke(home, "lesson", "add", str(path))
        assert_clean_exit(result)
        ids.append(result.output.split()[-1])
    listed = json.loads(invoke(home, "lesson", "list", "--json").output)
    full = {row["id"][:12]: row["id"] for row in listed}
    return [full.get(text[:12], text) for text in ids]


def created_id(invoke: Invoke, home: Path, *args: str) -> str:
    result = invoke(home, "collection", "create", *args)
    assert_clean_exit(result)
    listed = json.loads(invoke(home, "collection", "list", "--json").output)
    return str(listed[0]["id"])


def test_build_show_change_and_export_a_collection(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    public, local = lesson_ids(invoke, home, tmp_path, ["public", "local"])
    collection = created_id(invoke, home, "Legal observer track", public[:8], local[:8],
                            "--cohort", "Nairobi 2027", "--intro", "Read **first**.")  # fmt: skip
    shown = invoke(home, "collection", "show", collection[:8])
    assert_clean_exit(shown)
    assert "Lesson 0 (public)" in shown.output and "Lesson 1 (local)" in shown.output

    refused = invoke(home, "collection", "export", collection[:8], str(tmp_path / "copy"))
    assert_one_line_error(refused, "lesson 2", "consent scope local", "printed copy")
    assert not (tmp_path / "copy").exists()

    assert_clean_exit(invoke(home, "collection", "remove", collection[:8], local[:8]))
    exported = invoke(home, "collection", "export", collection[:8], str(tmp_path / "copy"))
    assert_clean_exit(exported)
    assert "Wrote 1 lesson" in exported.output
    assert (tmp_path / "copy" / "index.html").is_file()
    pdf = invoke(home, "collection", "export", collection[:8], str(tmp_path / "c.pdf"),
                 "--format", "pdf")  # fmt: skip
    assert_clean_exit(pdf)
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")

    assert_clean_exit(invoke(home, "collection", "add", collection[:8], local[:8], "--at", "1"))
    answer = json.loads(invoke(home, "collection", "show", collection[:8], "--json").output)
    assert [entry["lesson"]["id"] for entry in answer["entries"]] == [local, public]
    listed = json.loads(invoke(home, "collection", "list", "--json").output)
    assert len(listed) == 1 and listed[0]["id"] == answer["id"] != collection


def test_an_author_may_not_build_a_collection_and_nothing_is_stored(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    add_member(invoke, home, "ana")
    (public,) = lesson_ids(invoke, home, tmp_path, ["public"])
    before = stored_counts(home)
    result = invoke(
        home, "collection", "create", "X", public[:8], "--cohort", "Y", before=["--as", "ana"]
    )
    assert_one_line_error(result, "ana may not build collections", "curator")
    assert stored_counts(home) == before


def test_an_unknown_lesson_is_refused_in_one_line(invoke: Invoke, home: Path) -> None:
    before = stored_counts(home)
    result = invoke(home, "collection", "create", "X", "abcdef12", "--cohort", "Y")
    assert_one_line_error(result, "no record abcdef12")
    assert stored_counts(home) == before
