"""``rhizome init``: a new home, its permissions and files, and what it refuses."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

from crypto.keyfile import is_protected, read_key_file
from crypto.node_id import normalize_node_id, public_key_from_node_id
from crypto.signing import SigningIdentity
from tests.conftest import write_lesson
from tests.node.conftest import (
    INIT_EVENT,
    Invoke,
    assert_clean_exit,
    assert_one_line_error,
    last_line,
    logged_events,
    stored_counts,
)

INIT = ("init", "--name", "Nairobi Hub", "--region", "East Africa")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def not_sealed() -> str:
    raise AssertionError("asked for a passphrase, but no key was sealed")


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int, int]]:
    """Every file and folder under ``folder`` (members/ too): content, mtime and mode."""
    return {
        str(path.relative_to(folder)): (
            None if path.is_dir() else path.read_bytes(),
            path.stat().st_mtime_ns,
            mode(path),
        )
        for path in sorted(folder.rglob("*"))
    }


def test_init_creates_a_private_home_with_every_file(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    result = invoke(home, *INIT)
    assert_clean_exit(result)
    assert mode(home) == 0o700
    assert mode(home / "node.key") == 0o600
    for name in ("config.toml", "policy.toml", "rhizome.db"):
        assert (home / name).is_file(), name
    assert mode(home / "members") == 0o700
    assert sorted(path.name for path in (home / "members").iterdir()) == ["admin.key"]
    assert mode(home / "members" / "admin.key") == 0o600
    assert stored_counts(home) == (0, 0)
    # The log holds one entry: the operator member "admin" was added.
    assert logged_events(home) == [(1, *INIT_EVENT)]


def test_init_makes_the_operator_an_admin_member(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT))
    listed = invoke(home, "member", "list", "--json")
    assert_clean_exit(listed)
    [operator] = json.loads(listed.stdout)
    assert (operator["name"], operator["roles"]) == ("admin", ["admin"])
    seed = read_key_file(home / "members" / "admin.key", not_sealed)
    assert SigningIdentity.from_seed(seed).public_key.hex() == operator["key"]


def test_init_prints_the_node_id_as_the_last_line(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    result = invoke(home, *INIT)
    assert_clean_exit(result)
    printed = last_line(result.stdout)
    config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    assert printed == config["node"]["id"]
    assert normalize_node_id(printed) == printed
    assert len(public_key_from_node_id(printed)) == 32
    assert config["node"]["name"] == "Nairobi Hub"
    assert config["node"]["region"] == "East Africa"


def test_init_refuses_to_overwrite_an_existing_home(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT))
    before = snapshot(home)
    again = invoke(home, "init", "--name", "Impostor", "--region", "Nowhere")
    assert_one_line_error(again, str(home), "already")
    assert snapshot(home) == before


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    home.mkdir()
    (home / "notes.txt").write_text("mine", encoding="utf-8")
    result = invoke(home, *INIT)
    assert_one_line_error(result, "not empty")
    assert sorted(path.name for path in home.iterdir()) == ["notes.txt"]


def test_passphrase_from_environment_seals_the_key(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    result = invoke(home, *INIT, env={"RHIZOME_PASSPHRASE": "correct horse"})
    assert_clean_exit(result)
    assert "NOT sealed" not in result.stdout
    assert is_protected((home / "node.key").read_bytes())
    assert is_protected((home / "members" / "admin.key").read_bytes())


def test_without_passphrase_the_key_is_not_sealed(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT))
    assert not is_protected((home / "node.key").read_bytes())
    assert not is_protected((home / "members" / "admin.key").read_bytes())


def test_sealed_key_needs_the_right_passphrase_to_add(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT, env={"RHIZOME_PASSPHRASE": "correct horse"}))
    lesson = write_lesson(tmp_path, "lesson.md")

    wrong = invoke(home, "lesson", "add", str(lesson), env={"RHIZOME_PASSPHRASE": "wrong"})
    assert_one_line_error(wrong, "wrong passphrase")
    assert stored_counts(home, "correct horse") == (0, 0)

    right = invoke(home, "lesson", "add", str(lesson), env={"RHIZOME_PASSPHRASE": "correct horse"})
    assert_clean_exit(right)
    record_id = last_line(right.stdout)
    assert len(record_id) == 64
    assert stored_counts(home, "correct horse") == (1, 1)


def test_sealed_key_without_passphrase_off_a_terminal_says_how(
    tmp_path: Path, invoke: Invoke
) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT, env={"RHIZOME_PASSPHRASE": "correct horse"}))
    lesson = write_lesson(tmp_path, "lesson.md")
    result = invoke(home, "lesson", "add", str(lesson))
    assert_one_line_error(result, "RHIZOME_PASSPHRASE")
    assert stored_counts(home, "correct horse") == (0, 0)


def test_rhizome_home_environment_is_used_without_home_option(
    tmp_path: Path, invoke: Invoke
) -> None:
    home = tmp_path / "from-env"
    result = invoke(None, *INIT, env={"RHIZOME_HOME": str(home)})
    assert_clean_exit(result)
    assert (home / "config.toml").is_file()
    listed = invoke(None, "lesson", "list", "--json", env={"RHIZOME_HOME": str(home)})
    assert_clean_exit(listed)
    assert listed.stdout.strip() == "[]"


def test_home_option_beats_the_environment(tmp_path: Path, invoke: Invoke) -> None:
    chosen, ignored = tmp_path / "chosen", tmp_path / "ignored"
    result = invoke(chosen, *INIT, env={"RHIZOME_HOME": str(ignored)})
    assert_clean_exit(result)
    assert (chosen / "config.toml").is_file()
    assert not ignored.exists()


def test_bad_language_is_refused_and_nothing_is_created(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    result = invoke(home, *INIT, "--language", "english please")
    assert_one_line_error(result, "--language", "english please")
    assert not home.exists()


def test_language_is_written_to_config(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT, "--language", "pt-BR"))
    config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    assert config["node"]["language"] == "pt-BR"


def test_init_leaves_no_world_readable_file(tmp_path: Path, invoke: Invoke) -> None:
    home = tmp_path / "hub"
    assert_clean_exit(invoke(home, *INIT))
    assert not mode(home) & (stat.S_IRWXG | stat.S_IRWXO)
    assert os.access(home / "node.key", os.R_OK)
    assert not mode(home / "node.key") & (stat.S_IRWXG | stat.S_IRWXO)
    members = home / "members"
    assert not mode(members) & (stat.S_IRWXG | stat.S_IRWXO)
    keys = sorted(members.iterdir())
    assert keys == [members / "admin.key"]
    for key in keys:
        assert os.access(key, os.R_OK)
        assert not mode(key) & (stat.S_IRWXG | stat.S_IRWXO), key


def test_hub_name_with_square_brackets_is_printed_as_written(
    tmp_path: Path, invoke: Invoke
) -> None:
    home = tmp_path / "hub"
    result = invoke(home, "init", "--name", "Hub [/] Sur", "--region", "South America")
    assert_clean_exit(result)
    assert "Hub [/] Sur" in result.stdout
    config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    assert last_line(result.stdout) == config["node"]["id"]
