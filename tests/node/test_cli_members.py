"""``rhizome member …`` and the global ``--as``: who may act, and what each refusal says."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from crypto.keyfile import is_protected, read_key_file
from crypto.signing import SigningIdentity
from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import (
    INIT_EVENT,
    Invoke,
    add_member,
    assert_clean_exit,
    assert_one_line_error,
    last_line,
    logged_events,
    stored_counts,
)


@pytest.fixture
def home(make_home: HomeFactory) -> Path:
    return make_home()


def members(invoke: Invoke, home: Path, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Name → roles, as ``member list --json`` shows them."""
    result = invoke(home, "member", "list", "--json", env=env)
    assert_clean_exit(result)
    return {row["name"]: row["roles"] for row in json.loads(result.stdout)}


def member_rows(
    invoke: Invoke, home: Path, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    result = invoke(home, "member", "list", "--json", env=env)
    assert_clean_exit(result)
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def member_log(home: Path) -> list[tuple[str, str | None]]:
    """(kind, subject) of every member entry logged after init's own."""
    return [(kind, subject) for _, kind, subject in logged_events(home)[1:]]


def key_bytes(home: Path, name: str) -> bytes:
    return (home / "members" / f"{name}.key").read_bytes()


def not_sealed() -> str:
    raise AssertionError("asked for a passphrase, but no key was sealed")


# Happy paths


def test_a_new_home_lists_only_the_operator(invoke: Invoke, home: Path) -> None:
    assert members(invoke, home) == {"admin": ["admin"]}
    result = invoke(home, "member", "list")
    assert_clean_exit(result)
    assert [line.split() for line in result.stdout.splitlines() if line.strip()] == [
        ["admin", "admin"]
    ]


def test_add_gives_a_certified_key_and_logs_it(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "member", "add", "amina", "--role", "author", "--role", "curator")
    assert_clean_exit(result)
    assert "Added amina (curator, author)." in result.stdout
    assert members(invoke, home) == {"admin": ["admin"], "amina": ["curator", "author"]}
    key = home / "members" / "amina.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not is_protected(key.read_bytes())
    [row] = [row for row in member_rows(invoke, home) if row["name"] == "amina"]
    seed = read_key_file(key, not_sealed)
    assert SigningIdentity.from_seed(seed).public_key.hex() == row["key"]
    assert member_log(home) == [("member.added", "amina")]
    assert stored_counts(home) == (0, 1)


def test_a_member_key_is_sealed_like_the_node_key(invoke: Invoke, make_home: HomeFactory) -> None:
    home = make_home(passphrase="correct horse")
    env = {"RHIZOME_PASSPHRASE": "correct horse"}
    assert_clean_exit(invoke(home, "member", "add", "amina", "--role", "author", env=env))
    assert is_protected(key_bytes(home, "amina"))
    # A sealed home seals member keys with its home key, which the passphrase unwraps.
    home_key = read_key_file(home / "home.key", lambda: "correct horse")
    seed = read_key_file(home / "members" / "amina.key", lambda: "", lambda: home_key)
    [row] = [row for row in member_rows(invoke, home, env) if row["name"] == "amina"]
    assert SigningIdentity.from_seed(seed).public_key.hex() == row["key"]


def test_a_member_key_needs_the_right_passphrase(invoke: Invoke, make_home: HomeFactory) -> None:
    home = make_home(passphrase="correct horse")
    wrong = invoke(
        home, "member", "add", "amina", "--role", "author", env={"RHIZOME_PASSPHRASE": "wrong"}
    )
    assert_one_line_error(wrong, "wrong passphrase")
    assert members(invoke, home, {"RHIZOME_PASSPHRASE": "correct horse"}) == {"admin": ["admin"]}
    assert not (home / "members" / "amina.key").exists()


def test_role_add_and_remove(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    given = invoke(home, "member", "role", "add", "amina", "curator")
    assert_clean_exit(given)
    assert "amina: curator, author" in given.stdout
    assert members(invoke, home)["amina"] == ["curator", "author"]
    taken = invoke(home, "member", "role", "remove", "amina", "author")
    assert_clean_exit(taken)
    assert "amina: curator" in taken.stdout
    assert members(invoke, home)["amina"] == ["curator"]
    assert member_log(home) == [
        ("member.added", "amina"),
        ("member.roles", "amina"),
        ("member.roles", "amina"),
    ]


def test_giving_a_role_twice_keeps_one(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    assert_clean_exit(invoke(home, "member", "role", "add", "amina", "author"))
    assert members(invoke, home)["amina"] == ["author"]


def test_remove_takes_the_member_and_the_key_away(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    result = invoke(home, "member", "remove", "amina")
    assert_clean_exit(result)
    assert "Removed amina." in result.stdout
    assert members(invoke, home) == {"admin": ["admin"]}
    assert not (home / "members" / "amina.key").exists()
    assert member_log(home) == [("member.added", "amina"), ("member.removed", "amina")]


def test_a_removed_members_name_is_not_reused(invoke: Invoke, home: Path) -> None:
    # Past approvals and revocations signed as amina must keep naming that one person.
    add_member(invoke, home, "amina")
    assert_clean_exit(invoke(home, "member", "remove", "amina"))
    before = stored_counts(home)
    result = invoke(home, "member", "add", "amina", "--role", "curator")
    assert_one_line_error(result, "removed member", "'amina'")
    assert "amina" not in members(invoke, home)
    assert not (home / "members" / "amina.key").exists()
    assert stored_counts(home) == before


def test_another_admin_may_manage_members_and_remove_the_operator(
    invoke: Invoke, home: Path
) -> None:
    add_member(invoke, home, "chair", "admin")
    assert_clean_exit(invoke(home, "member", "remove", "admin", before=("--as", "chair")))
    assert members(invoke, home) == {"chair": ["admin"]}
    # The default actor is the operator, who is gone now.
    refused = invoke(home, "member", "add", "amina", "--role", "author")
    assert_one_line_error(refused, "'admin'")


def test_member_changes_keep_the_archive_verifiable(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    assert_clean_exit(invoke(home, "member", "role", "add", "amina", "curator"))
    assert_clean_exit(invoke(home, "member", "remove", "amina"))
    result = invoke(home, "verify", "--json")
    assert_clean_exit(result)
    report = json.loads(result.stdout)
    assert report["intact"] is True
    assert report["events_checked"] == 1 + 3  # init's entry, then added, roles, removed


# Errors


def test_an_unknown_role_is_refused(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "member", "add", "amina", "--role", "wizard")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    error = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and "'wizard'" in error[0] and "author" in error[0], error
    assert members(invoke, home) == {"admin": ["admin"]}
    assert not (home / "members" / "amina.key").exists()
    assert stored_counts(home) == (0, 0)


def test_an_unknown_role_cannot_be_given(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    result = invoke(home, "member", "role", "add", "amina", "wizard")
    assert result.exit_code == 2, result.output
    assert "'wizard'" in result.stderr
    assert members(invoke, home)["amina"] == ["author"]


def test_a_duplicate_name_is_refused(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    before = stored_counts(home)
    result = invoke(home, "member", "add", "amina", "--role", "curator")
    assert_one_line_error(result, "already", "'amina'")
    assert members(invoke, home)["amina"] == ["author"]
    assert stored_counts(home) == before


def test_a_refused_duplicate_leaves_the_existing_key_alone(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    key = key_bytes(home, "amina")
    assert invoke(home, "member", "add", "amina", "--role", "curator").exit_code != 0
    assert key_bytes(home, "amina") == key


@pytest.mark.parametrize(
    "name", ["Amina", "bad name", "../amina", ".amina", "am/ina", "", "a" * 33]
)
def test_a_bad_name_is_refused(invoke: Invoke, home: Path, name: str) -> None:
    result = invoke(home, "member", "add", name, "--role", "author")
    assert_one_line_error(result, "not a member name")
    assert members(invoke, home) == {"admin": ["admin"]}
    assert sorted(path.name for path in (home / "members").iterdir()) == ["admin.key"]
    assert not (home.parent / "amina.key").exists()
    assert stored_counts(home) == (0, 0)


def test_removing_the_last_admin_is_refused(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "member", "remove", "admin")
    assert_one_line_error(result, "last admin")
    assert members(invoke, home) == {"admin": ["admin"]}
    assert (home / "members" / "admin.key").is_file()
    assert stored_counts(home) == (0, 0)


def test_taking_the_last_admins_role_is_refused(invoke: Invoke, home: Path) -> None:
    assert_clean_exit(invoke(home, "member", "role", "add", "admin", "curator"))
    result = invoke(home, "member", "role", "remove", "admin", "admin")
    assert_one_line_error(result, "last admin")
    assert members(invoke, home)["admin"] == ["admin", "curator"]


def test_taking_a_members_only_role_is_refused(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "amina")
    result = invoke(home, "member", "role", "remove", "amina", "author")
    assert_one_line_error(result, "amina", "no role left")
    assert members(invoke, home)["amina"] == ["author"]


def test_removing_an_unknown_member_is_refused(invoke: Invoke, home: Path) -> None:
    assert_one_line_error(invoke(home, "member", "remove", "ghost"), "no member 'ghost'")
    assert_one_line_error(
        invoke(home, "member", "role", "add", "ghost", "curator"), "no member 'ghost'"
    )
    assert stored_counts(home) == (0, 0)


@pytest.mark.parametrize(
    "command",
    [
        ("member", "add", "kofi", "--role", "author"),
        ("member", "remove", "admin"),
        ("member", "role", "add", "amina", "admin"),
        ("member", "role", "remove", "admin", "admin"),
    ],
)
def test_an_author_may_not_manage_members(
    invoke: Invoke, home: Path, command: tuple[str, ...]
) -> None:
    add_member(invoke, home, "amina")
    before = stored_counts(home)
    result = invoke(home, *command, before=("--as", "amina"))
    line = assert_one_line_error(result, "may not manage members")
    assert "amina" in line and "admin" in line
    assert members(invoke, home) == {"admin": ["admin"], "amina": ["author"]}
    assert not (home / "members" / "kofi.key").exists()
    assert stored_counts(home) == before


def test_a_curator_may_not_add_lessons(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    add_member(invoke, home, "cora", "curator")
    result = invoke(
        home, "lesson", "add", str(write_lesson(tmp_path, "one.md")), before=("--as", "cora")
    )
    assert_one_line_error(result, "cora may not add lessons")
    assert stored_counts(home)[0] == 0


def test_a_removed_member_cannot_act(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    add_member(invoke, home, "amina")
    lesson = write_lesson(tmp_path, "one.md")
    assert_clean_exit(invoke(home, "lesson", "add", str(lesson), before=("--as", "amina")))
    assert_clean_exit(invoke(home, "member", "remove", "amina"))
    before = stored_counts(home)
    again = write_lesson(tmp_path, "two.md", {"title": "Another", "kind": "story"})
    result = invoke(home, "lesson", "add", str(again), before=("--as", "amina"))
    assert_one_line_error(result, "no member 'amina'")
    assert stored_counts(home) == before


def test_a_removed_admin_cannot_manage_members(invoke: Invoke, home: Path) -> None:
    add_member(invoke, home, "chair", "admin")
    assert_clean_exit(invoke(home, "member", "remove", "chair"))
    result = invoke(home, "member", "add", "kofi", "--role", "author", before=("--as", "chair"))
    assert_one_line_error(result, "no member 'chair'")
    assert members(invoke, home) == {"admin": ["admin"]}


@pytest.mark.parametrize(
    "how",
    [
        {"before": ("--as", "ghost")},
        {"env": {"RHIZOME_MEMBER": "ghost"}},
    ],
)
def test_as_an_unknown_member_is_one_line(
    invoke: Invoke, home: Path, tmp_path: Path, how: dict[str, Any]
) -> None:
    lesson = write_lesson(tmp_path, "one.md")
    result = invoke(home, "lesson", "add", str(lesson), **how)
    assert_one_line_error(result, "no member 'ghost'", "member list")
    assert stored_counts(home) == (0, 0)


def test_as_an_unknown_member_cannot_import(invoke: Invoke, home: Path, samples: Path) -> None:
    result = invoke(home, "lesson", "import", str(samples), before=("--as", "ghost"))
    assert_one_line_error(result, "no member 'ghost'")
    assert stored_counts(home) == (0, 0)


def test_as_an_unknown_member_cannot_manage_members(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "member", "add", "kofi", "--role", "author", before=("--as", "ghost"))
    assert_one_line_error(result, "no member 'ghost'")
    assert members(invoke, home) == {"admin": ["admin"]}


def test_the_author_of_a_lesson_is_the_acting_member(
    invoke: Invoke, home: Path, tmp_path: Path
) -> None:
    add_member(invoke, home, "amina")
    result = invoke(
        home, "lesson", "add", str(write_lesson(tmp_path, "one.md")), before=("--as", "amina")
    )
    assert_clean_exit(result)
    shown = invoke(home, "lesson", "show", last_line(result.stdout), "--json")
    assert_clean_exit(shown)
    assert json.loads(shown.stdout)["author"] == "amina"
    assert logged_events(home)[0][1:] == INIT_EVENT
