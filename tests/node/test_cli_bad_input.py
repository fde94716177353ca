"""Bad input, one case a test: non-zero exit, one clear line, no traceback, nothing stored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive.record import MAX_BODY_BYTES
from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import (
    Invoke,
    assert_clean_exit,
    assert_one_line_error,
    last_line,
    stored_counts,
)


@pytest.fixture
def home(make_home: HomeFactory, tmp_path: Path, invoke: Invoke) -> Path:
    """A home that already holds one lesson, so "nothing stored" compares non-zero counts."""
    made = make_home()
    assert_clean_exit(invoke(made, "lesson", "add", str(write_lesson(tmp_path, "first.md"))))
    assert stored_counts(made) == (1, 1)
    return made


def refused_add(invoke: Invoke, home: Path, path: Path, *needles: str) -> str:
    """``lesson add path`` fails with one line naming the file (and each needle); stores nothing."""
    before = stored_counts(home)
    result = invoke(home, "lesson", "add", str(path))
    line = assert_one_line_error(result, path.name, *needles)
    assert stored_counts(home) == before
    return line


def write_raw(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- lesson files -------------------------------------------------------------------------


def test_no_front_matter(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_raw(tmp_path, "plain.md", "# A lesson\n\nNo front matter here.\n")
    refused_add(invoke, home, path, "front matter")


def test_front_matter_not_closed(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_raw(tmp_path, "open.md", "---\ntitle: Open\nkind: story\nBody\n")
    refused_add(invoke, home, path, "not closed")


def test_broken_yaml(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_raw(tmp_path, "broken.md", "---\ntitle: [unclosed\nkind: story\n---\nBody\n")
    refused_add(invoke, home, path, "YAML")


def test_front_matter_that_is_not_a_mapping(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_raw(tmp_path, "list.md", "---\n- title\n- kind\n---\nBody\n")
    refused_add(invoke, home, path, "mapping")


def test_unknown_kind(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "kind.md", {"title": "T", "kind": "recipe"})
    refused_add(invoke, home, path, "field 'kind'", "recipe")


def test_unknown_field(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "field.md", {"title": "T", "kind": "story", "colour": "red"})
    refused_add(invoke, home, path, "field 'colour'", "unknown field")


def test_missing_title(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "untitled.md", {"kind": "story"})
    refused_add(invoke, home, path, "field 'title'", "required")


def test_empty_title(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "blank.md", {"title": "   ", "kind": "story"})
    refused_add(invoke, home, path, "field 'title'")


def test_bad_date_text(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    front = {"title": "T", "kind": "story", "consent": {"expires": "next tuesday"}}
    path = write_lesson(tmp_path, "date.md", front)
    refused_add(invoke, home, path, "field 'consent.expires'", "ISO 8601")


def test_bad_date_impossible_day(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    # YAML itself turns 2026-02-30 into a date and fails; that must still be one clear line.
    text = "---\ntitle: T\nkind: story\nconsent:\n  expires: 2026-02-30\n---\nBody\n"
    path = write_raw(tmp_path, "feb30.md", text)
    refused_add(invoke, home, path)


def test_wrong_type_title(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    # A plain number is read as the title's text ("1984"); a list cannot be a title.
    path = write_lesson(tmp_path, "listed.md", {"title": ["a", "b"], "kind": "story"})
    refused_add(invoke, home, path, "field 'title'", "must be text")


def test_wrong_type_tags(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "tags.md", {"title": "T", "kind": "story", "tags": "safety"})
    refused_add(invoke, home, path, "field 'tags'", "must be a list")


def test_wrong_type_reshare(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    front = {"title": "T", "kind": "story", "consent": {"reshare": "yes please"}}
    path = write_lesson(tmp_path, "reshare.md", front)
    refused_add(invoke, home, path, "field 'consent.reshare'", "true or false")


def test_bad_language(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "lang.md", {"title": "T", "kind": "story", "language": "!!"})
    refused_add(invoke, home, path, "field 'language'")


def test_supersedes_unknown_record(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    front = {"title": "T", "kind": "story", "supersedes": "ffffffffffff"}
    path = write_lesson(tmp_path, "orphan.md", front)
    refused_add(invoke, home, path, "field 'supersedes'")


def test_oversized_body(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "huge.md", body="x" * (MAX_BODY_BYTES + 1) + "\n")
    refused_add(invoke, home, path, "field 'body'", str(MAX_BODY_BYTES))


def test_body_at_the_limit_is_accepted(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "full.md", body="x" * (MAX_BODY_BYTES - 1) + "\n")
    result = invoke(home, "lesson", "add", str(path))
    assert_clean_exit(result)
    assert len(last_line(result.stdout)) == 64


def test_oversized_file(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "enormous.md", body="x" * (4 * MAX_BODY_BYTES))
    refused_add(invoke, home, path, "larger than the limit")


def test_not_utf8(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(b"---\ntitle: Caf\xe9 debrief\nkind: story\n---\nBody\n")
    refused_add(invoke, home, path, "UTF-8")


def test_missing_file(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    refused_add(invoke, home, tmp_path / "nowhere.md", "cannot read")


# ---- config.toml --------------------------------------------------------------------------


def refused_command(invoke: Invoke, home: Path, tmp_path: Path, *needles: str) -> None:
    """Both a reading and a writing command fail in one line, and nothing is stored."""
    before = stored_counts(home)
    assert_one_line_error(invoke(home, "lesson", "list"), *needles)
    path = write_lesson(tmp_path, "second.md")
    assert_one_line_error(invoke(home, "lesson", "add", str(path)), *needles)
    assert stored_counts(home) == before


def edit_config(home: Path, old: str, new: str) -> None:
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_config_invalid_toml(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    edit_config(home, "[server]", "[server")
    refused_command(invoke, home, tmp_path, "config.toml")


def test_config_unknown_key(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    edit_config(home, "[server]", '[server]\ncolour = "red"')
    refused_command(invoke, home, tmp_path, "config.toml", "colour")


def test_config_wrong_type(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    edit_config(home, "port = 8470", 'port = "eighty"')
    refused_command(invoke, home, tmp_path, "config.toml", "port")


def test_config_not_utf8(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    (home / "config.toml").write_bytes(b'[node]\nname = "\xff"\n')
    refused_command(invoke, home, tmp_path, "config.toml", "UTF-8")


def test_config_bad_node_id(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    config = home / "config.toml"
    text = config.read_text(encoding="utf-8")
    start = text.index('id = "') + len('id = "')
    flipped = "B" if text[start] != "B" else "C"
    config.write_text(text[:start] + flipped + text[start + 1 :], encoding="utf-8")
    refused_command(invoke, home, tmp_path, "config.toml", "id")


# ---- node.key -----------------------------------------------------------------------------


def replace_key(home: Path, data: bytes) -> None:
    key = home / "node.key"
    key.write_bytes(data)
    os.chmod(key, 0o600)


def refused_signing(invoke: Invoke, home: Path, tmp_path: Path, *needles: str) -> None:
    before = stored_counts(home)
    path = write_lesson(tmp_path, "second.md")
    assert_one_line_error(invoke(home, "lesson", "add", str(path)), "node.key", *needles)
    assert stored_counts(home) == before


def test_key_file_junk(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    replace_key(home, b"this is not a key\x00\xff\xfe" * 3)
    refused_signing(invoke, home, tmp_path, "key file")


def test_key_file_truncated(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    data = (home / "node.key").read_bytes()
    replace_key(home, data[: len(data) // 2])
    refused_signing(invoke, home, tmp_path, "key file")


def test_key_file_empty(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    replace_key(home, b"")
    refused_signing(invoke, home, tmp_path, "key file")


def test_key_file_missing(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    (home / "node.key").unlink()
    refused_signing(invoke, home, tmp_path, "missing")


def test_key_of_another_node(
    invoke: Invoke, home: Path, tmp_path: Path, make_home: HomeFactory
) -> None:
    other = make_home(name="Other Hub")
    replace_key(home, (other / "node.key").read_bytes())
    refused_signing(invoke, home, tmp_path, "belongs to node")


def test_sealed_key_truncated(invoke: Invoke, make_home: HomeFactory, tmp_path: Path) -> None:
    home = make_home(name="Sealed Hub", passphrase="correct horse")
    data = (home / "node.key").read_bytes()
    replace_key(home, data[:-20])
    path = write_lesson(tmp_path, "x.md")
    result = invoke(home, "lesson", "add", str(path), env={"RHIZOME_PASSPHRASE": "correct horse"})
    assert_one_line_error(result, "node.key")
    assert stored_counts(home, "correct horse") == (0, 0)


def test_wrong_passphrase(invoke: Invoke, make_home: HomeFactory, tmp_path: Path) -> None:
    home = make_home(name="Sealed Hub", passphrase="correct horse")
    path = write_lesson(tmp_path, "x.md")
    result = invoke(home, "lesson", "add", str(path), env={"RHIZOME_PASSPHRASE": "battery"})
    assert_one_line_error(result, "home.key", "wrong passphrase")  # it unwraps every key
    assert stored_counts(home, "correct horse") == (0, 0)


def test_wrong_passphrase_on_import(invoke: Invoke, make_home: HomeFactory, samples: Path) -> None:
    home = make_home(name="Sealed Hub", passphrase="correct horse")
    result = invoke(home, "lesson", "import", str(samples), env={"RHIZOME_PASSPHRASE": "x"})
    assert_one_line_error(result, "wrong passphrase")
    assert stored_counts(home, "correct horse") == (0, 0)


def test_read_only_commands_of_a_sealed_home_need_its_passphrase(
    invoke: Invoke, make_home: HomeFactory
) -> None:
    """The database itself is encrypted: listing needs the passphrase too."""
    home = make_home(name="Sealed Hub", passphrase="correct horse")
    assert_one_line_error(invoke(home, "lesson", "list", "--json"), "RHIZOME_PASSPHRASE")
    result = invoke(home, "lesson", "list", "--json", env={"RHIZOME_PASSPHRASE": "correct horse"})
    assert_clean_exit(result)
    assert result.stdout.strip() == "[]"


# ---- no home ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("lesson", "list"),
        ("lesson", "show", "abcd"),
        ("lesson", "search", "safety"),
        ("lesson", "add", "lesson.md"),
        ("lesson", "import", "."),
        ("verify",),
    ],
    ids=lambda args: "-".join(args),
)
def test_command_on_missing_home_says_run_init(
    invoke: Invoke, tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "no-such-home"
    line = assert_one_line_error(invoke(missing, *args), str(missing))
    assert "rhizome init" in line
    assert not missing.exists()
