"""A sealed home: what init, seal and passphrase change write, and what a wrong passphrase
leaves (nothing changed)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from archive.blobs import BlobStore
from archive.cipher import WrongDatabaseKey
from crypto.errors import KeyFileError
from crypto.keyfile import kdf_of
from governance.member_tokens import token_member
from node import api_tokens
from node.api_tokens import TOKEN_KEY_FILE, token_digest
from node.database import open_database
from node.home import HomePaths
from node.node import Node
from node.passphrase_sources import (
    PassphraseFileRefused,
    propose_passphrase,
    read_passphrase_file,
    read_removable_key,
)
from node.seal import seal_home
from node.sealed_home import is_sealed, key_material_paths
from tests.attachment_files import BODY_CANARY
from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error
from tests.sealed_helpers import (
    CANARY,
    add_story_with_notes,
    database_key_of,
    decrypted_holding,
    files_holding,
)

PASSPHRASE = "tidal basin lantern orchard copper meadow"
SEALED = {"RHIZOME_PASSPHRASE": PASSPHRASE}


def add_canary(invoke: Invoke, home: Path, tmp_path: Path, env: dict[str, str]) -> str:
    lesson = write_lesson(
        tmp_path, "canary.md", {"title": "A story that stays home", "kind": "story",
                                "consent": {"scope": "local"}},
        body=f"Names and places: {CANARY}.\n",
    )  # fmt: skip
    result = invoke(home, "lesson", "add", str(lesson), env=env)
    assert_clean_exit(result)
    return result.output.strip().splitlines()[-1]


def fingerprint(home: Path) -> dict[str, str]:
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def passphrase_file(tmp_path: Path, text: str, name: str = "passphrase") -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_sealed_home_keeps_a_local_canary_out_of_every_byte(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home(passphrase=PASSPHRASE)
    add_canary(invoke, home, tmp_path, SEALED)
    assert is_sealed(home)
    assert not (home / "rhizome.db").read_bytes().startswith(b"SQLite format 3")
    assert files_holding(home, CANARY) == []
    assert decrypted_holding(home, PASSPHRASE, CANARY) > 0  # the passphrase does open it
    found = invoke(home, "lesson", "search", CANARY, env=SEALED)
    assert_clean_exit(found)
    assert "A story that stays home" in found.output


def test_the_key_material_is_listed_with_the_home_key_first(make_home: HomeFactory) -> None:
    home = make_home(passphrase=PASSPHRASE)
    listed = [str(path.relative_to(home)) for path in key_material_paths(home)]
    assert listed == ["home.key", "node.key", "members/admin.key"]
    with pytest.raises(WrongDatabaseKey):
        open_database(home / "rhizome.db", b"\0" * 32)
    db = open_database(home / "rhizome.db", database_key_of(home, PASSPHRASE))
    assert db.execute("SELECT count(*) FROM members").fetchone()[0] == 1
    db.conn.close()


def test_a_wrong_passphrase_is_one_clear_error_and_changes_nothing(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home(passphrase=PASSPHRASE)
    add_canary(invoke, home, tmp_path, SEALED)
    before = fingerprint(home)
    result = invoke(home, "lesson", "list", env={"RHIZOME_PASSPHRASE": "not it at all"})
    assert_one_line_error(result, "wrong passphrase")
    assert fingerprint(home) == before


def test_seal_converts_an_unsealed_home_in_place(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home()
    add_canary(invoke, home, tmp_path, {})
    assert files_holding(home, CANARY) != []
    result = invoke(home, "seal", "--passphrase-file", str(passphrase_file(tmp_path, PASSPHRASE)))
    assert_clean_exit(result)
    assert files_holding(home, CANARY) == []
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".seal")) == []
    listed = invoke(home, "lesson", "search", CANARY, env=SEALED)
    assert_clean_exit(listed)
    assert "A story that stays home" in listed.output
    again = invoke(home, "seal", "--passphrase-file", str(tmp_path / "passphrase"))
    assert_one_line_error(again, "sealed already")


def test_seal_refuses_a_short_passphrase_and_changes_nothing(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home()
    before = fingerprint(home)
    result = invoke(home, "seal", "--passphrase-file", str(passphrase_file(tmp_path, "short")))
    assert_one_line_error(result, "too easy to guess")
    assert fingerprint(home) == before and not is_sealed(home)


def test_a_seal_stopped_at_any_step_leaves_a_usable_home(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    """Each step of the conversion raising: the home opens, old (unsealed) or new (sealed),
    with its lesson, on the next open."""
    steps = ["database copied", "staged", "committed", "moved rhizome.db", "moved node.key"]
    for step in steps:
        home = make_home(name=f"Hub {steps.index(step)}")
        lesson = write_lesson(tmp_path, f"l{steps.index(step)}.md")
        Node(home).take_lesson_file(lesson)

        def stop(name: str, at: str = step) -> None:
            if name == at:
                raise KeyboardInterrupt(at)

        with pytest.raises(KeyboardInterrupt):
            seal_home(HomePaths(home), PASSPHRASE, lambda: "", stop)
        node = Node(home, passphrase=lambda: PASSPHRASE)
        assert len(node.db.execute("SELECT id FROM records").fetchall()) == 1, step
        assert node.sealed == (step not in ("database copied", "staged")), step
        node.close()


def test_passphrase_change_rewraps_the_key_without_touching_the_database(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home(passphrase=PASSPHRASE)
    add_canary(invoke, home, tmp_path, SEALED)
    Node(home, passphrase=lambda: PASSPHRASE).close()  # a checkpoint: the WAL is folded in
    database = hashlib.sha256((home / "rhizome.db").read_bytes()).hexdigest()
    new = "quarry thistle harbor velvet anchor pylon"
    result = invoke(
        home, "passphrase", "change", "--new-passphrase-file", str(passphrase_file(tmp_path, new)),
        env=SEALED,
    )  # fmt: skip
    assert_clean_exit(result)
    assert hashlib.sha256((home / "rhizome.db").read_bytes()).hexdigest() == database
    assert_one_line_error(invoke(home, "lesson", "list", env=SEALED), "wrong passphrase")
    assert_clean_exit(invoke(home, "lesson", "list", env={"RHIZOME_PASSPHRASE": new}))
    assert not (home / "home.key.old").exists() and not (home / "home.key.new").exists()


def test_passphrase_change_leaves_the_attachment_files_as_they_are(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    """Attachment files are sealed under a key derived from the home key, which a new
    passphrase only wraps anew: not one of their bytes changes, and they still read."""
    home = make_home(passphrase=PASSPHRASE)
    node = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        _, blob = add_story_with_notes(node)
        notes = BlobStore.of(node.db).read(blob)
    finally:
        node.close()
    blobs = {path: path.read_bytes() for path in (home / "blobs").rglob("*") if path.is_file()}
    assert blobs and not any(BODY_CANARY in data for data in blobs.values())
    new = "quarry thistle harbor velvet anchor pylon"
    result = invoke(
        home, "passphrase", "change", "--new-passphrase-file", str(passphrase_file(tmp_path, new)),
        env=SEALED,
    )  # fmt: skip
    assert_clean_exit(result)
    after = {path: path.read_bytes() for path in (home / "blobs").rglob("*") if path.is_file()}
    assert after == blobs
    reopened = Node(home, passphrase=lambda: new)
    try:
        assert BlobStore.of(reopened.db).read(blob) == notes
    finally:
        reopened.close()


def test_passphrase_change_with_a_wrong_current_passphrase_changes_nothing(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home(passphrase=PASSPHRASE)
    before = fingerprint(home)
    result = invoke(
        home, "passphrase", "change", "--new-passphrase-file",
        str(passphrase_file(tmp_path, "quarry thistle harbor velvet")),
        env={"RHIZOME_PASSPHRASE": "a wrong one, typed"},
    )  # fmt: skip
    assert_one_line_error(result, "wrong passphrase")
    assert fingerprint(home) == before


def test_a_passphrase_file_must_be_private_and_yours(tmp_path: Path) -> None:
    path = passphrase_file(tmp_path, PASSPHRASE)
    assert read_passphrase_file(path) == PASSPHRASE
    path.chmod(0o640)
    with pytest.raises(PassphraseFileRefused, match="readable by others"):
        read_passphrase_file(path)
    path.chmod(0o600)
    if os.geteuid() == 0:  # only root can give a file away; elsewhere the mode check stands
        os.chown(path, 4242, -1)
        with pytest.raises(PassphraseFileRefused, match="owned by another user"):
            read_passphrase_file(path)
    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(PassphraseFileRefused, match="not a regular file"):
        read_passphrase_file(link)
    with pytest.raises(KeyFileError, match="no such file"):
        read_passphrase_file(tmp_path / "missing")


def test_a_removable_key_beside_the_home_is_refused(make_home: HomeFactory, tmp_path: Path) -> None:
    home = make_home()
    with pytest.raises(PassphraseFileRefused, match="same disk"):
        read_removable_key(passphrase_file(tmp_path, PASSPHRASE), home)


def test_serve_refuses_a_passphrase_file_others_can_read(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path
) -> None:
    home = make_home(passphrase=PASSPHRASE)
    path = passphrase_file(tmp_path, PASSPHRASE)
    path.chmod(0o644)
    result = invoke(home, "serve", "--passphrase-file", str(path))
    assert_one_line_error(result, "readable by others")


def test_a_proposed_passphrase_is_six_words() -> None:
    words = propose_passphrase().split(" ")
    assert len(words) == 6 and all(word.isalpha() for word in words)
    assert propose_passphrase() != propose_passphrase()


def _token_holder(home: Path, token: str) -> str | None:
    """Who ``token`` belongs to, the key read afresh from the home (not this process's copy)."""
    api_tokens._keys.pop(home, None)
    node = Node(home)
    try:
        return token_member(node.db, token_digest(home, token, node.keys.home_key()))
    finally:
        node.close()


def test_the_api_token_key_is_sealed_and_tokens_outlive_sealing(
    invoke: Invoke, make_home: HomeFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home()
    made = invoke(home, "member", "token", "create", "admin", "--label", "exports")
    assert_clean_exit(made)
    token = made.stdout.strip().splitlines()[-1]
    plain_key = (home / TOKEN_KEY_FILE).read_bytes()
    assert len(plain_key) == 32  # unsealed: the key as it is

    sealed = invoke(home, "seal", "--passphrase-file", str(passphrase_file(tmp_path, PASSPHRASE)))
    assert_clean_exit(sealed)
    stored = (home / TOKEN_KEY_FILE).read_bytes()
    assert plain_key not in stored and kdf_of(stored, TOKEN_KEY_FILE) == "home-key"
    monkeypatch.setenv("RHIZOME_PASSPHRASE", PASSPHRASE)
    assert _token_holder(home, token) == "admin"  # the token given out before still works
    assert _token_holder(home, token.replace(token[-4:], "AAAA")) is None


def test_a_sealed_home_makes_its_api_token_key_sealed(
    invoke: Invoke, make_home: HomeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home(passphrase=PASSPHRASE)
    made = invoke(home, "member", "token", "create", "admin", env=SEALED)
    assert_clean_exit(made)
    stored = (home / TOKEN_KEY_FILE).read_bytes()
    assert len(stored) != 32 and kdf_of(stored, TOKEN_KEY_FILE) == "home-key"
    monkeypatch.setenv("RHIZOME_PASSPHRASE", PASSPHRASE)
    assert _token_holder(home, made.stdout.strip().splitlines()[-1]) == "admin"
