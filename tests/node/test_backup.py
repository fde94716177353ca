"""``rhizome backup`` and ``rhizome restore``: one encrypted, signed file; a tampered file, a
wrong passphrase or a folder that is not empty restore nothing."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from crypto.backup_file import MAGIC, BackupWriter
from crypto.signing import SigningIdentity
from federation.peers import save_peer
from federation.relearn_state import offers_held, pending_peers
from node.node import Node
from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error

PASSPHRASE = "correct horse battery staple"
BACKUP_PASSPHRASE = "a long backup passphrase"
CANARY = "CANARY-7f3a9c-backup"
LIMA = "RK44D5U-JEUR7EB-2YNVG7M-INJ6IR6-3CFBAEF-OSQCHQ6-NYM542O-O236UAI"
SEALED = {"RHIZOME_PASSPHRASE": PASSPHRASE}
UNSEALED = {"RHIZOME_BACKUP_PASSPHRASE": BACKUP_PASSPHRASE}


def with_lesson(home: Path, tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, "canary.md", body=f"The canary is {CANARY}.\n")
    node = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        node.add_lesson_file(lesson)
    finally:
        node.close()


def records(home: Path) -> int:
    """Lessons in the home's archive (opened with the passphrase if it is sealed)."""
    node = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        return int(node.db.execute("SELECT count(*) FROM records").fetchone()[0])
    finally:
        node.close()


@pytest.fixture
def sealed(make_home: HomeFactory, invoke: Invoke, tmp_path: Path) -> Path:
    home = make_home(passphrase=PASSPHRASE)
    with_lesson(home, tmp_path)
    node = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        save_peer(node.db, LIMA, "Lima Hub", "Andes", "https://127.0.0.1:9", 1_780_000_000)
    finally:
        node.close()
    return home


def test_a_backup_restores_the_whole_node(sealed: Path, invoke: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "hub.backup"
    made = invoke(sealed, "backup", str(file), env=SEALED)
    assert_clean_exit(made)
    assert file.read_bytes().startswith(MAGIC) and file.stat().st_mode & 0o777 == 0o600
    assert CANARY.encode() not in file.read_bytes()  # encrypted: no lesson text in the file

    target = tmp_path / "restored"
    restored = invoke(None, "restore", str(file), "--home", str(target), env=SEALED)
    assert_clean_exit(restored)
    assert "It offers nothing until 1 peer told it" in restored.output
    assert records(target) == records(sealed) == 1
    assert (target / "node.key").read_bytes() == (sealed / "node.key").read_bytes()
    assert target.stat().st_mode & 0o777 == 0o700
    assert_clean_exit(invoke(target, "verify", env=SEALED))
    node = Node(target, passphrase=lambda: PASSPHRASE)
    try:
        assert node.node_id == Node(sealed, passphrase=lambda: PASSPHRASE).node_id
        assert pending_peers(node.db) == [LIMA] and offers_held(node.db)
    finally:
        node.close()
    status = invoke(target, "status", env=SEALED)
    assert_clean_exit(status)
    assert "restored from a backup: this node offers nothing to any peer until Lima Hub" in (
        " ".join(status.output.split())
    )


def test_an_unsealed_node_needs_a_backup_passphrase(
    make_home: HomeFactory, invoke: Invoke, tmp_path: Path
) -> None:
    home = make_home()
    file = tmp_path / "hub.backup"
    assert_one_line_error(invoke(home, "backup", str(file)), "RHIZOME_BACKUP_PASSPHRASE")
    short = {"RHIZOME_BACKUP_PASSPHRASE": "short"}
    assert_one_line_error(invoke(home, "backup", str(file), env=short), "at least 12 characters")
    assert not file.exists()
    assert_clean_exit(invoke(home, "backup", str(file), env=UNSEALED))
    target = tmp_path / "restored"
    assert_clean_exit(invoke(None, "restore", str(file), "--home", str(target), env=UNSEALED))
    assert records(target) == 0 and (target / "config.toml").exists()


def test_a_backup_never_overwrites_a_file(sealed: Path, invoke: Invoke, tmp_path: Path) -> None:
    file = tmp_path / "hub.backup"
    file.write_bytes(b"precious")
    assert_one_line_error(invoke(sealed, "backup", str(file), env=SEALED), "refusing to overwrite")
    assert file.read_bytes() == b"precious"


@pytest.fixture
def backup(sealed: Path, invoke: Invoke, tmp_path: Path) -> Path:
    file = tmp_path / "hub.backup"
    assert_clean_exit(invoke(sealed, "backup", str(file), env=SEALED))
    return file


@pytest.mark.parametrize("where", [20, 0.5, -70, -1])
def test_a_tampered_backup_restores_nothing(
    backup: Path, invoke: Invoke, tmp_path: Path, where: float
) -> None:
    data = bytearray(backup.read_bytes())
    index = int(len(data) * where) if isinstance(where, float) else where
    data[index] ^= 0x01
    backup.write_bytes(bytes(data))
    target = tmp_path / "restored"
    result = invoke(None, "restore", str(backup), "--home", str(target), env=SEALED)
    assert_one_line_error(result, "backup")
    assert "signature does not verify" in result.output or "damaged" in result.output
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []


def test_a_truncated_backup_restores_nothing(backup: Path, invoke: Invoke, tmp_path: Path) -> None:
    backup.write_bytes(backup.read_bytes()[:-100])
    target = tmp_path / "restored"
    result = invoke(None, "restore", str(backup), "--home", str(target), env=SEALED)
    assert_one_line_error(result, "signature does not verify")
    assert not target.exists()


def test_not_a_backup_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"hello " * 100)
    result = invoke(None, "restore", str(junk), "--home", str(tmp_path / "r"), env=SEALED)
    assert_one_line_error(result, "not a Rhizome backup file")
    assert not (tmp_path / "r").exists()


def test_a_wrong_passphrase_restores_nothing(backup: Path, invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "restored"
    wrong = {"RHIZOME_PASSPHRASE": "not the passphrase"}
    result = invoke(None, "restore", str(backup), "--home", str(target), env=wrong)
    assert_one_line_error(result, "wrong passphrase for this backup")
    assert not target.exists()


def test_restore_refuses_a_folder_that_is_not_empty(
    backup: Path, sealed: Path, invoke: Invoke, tmp_path: Path
) -> None:
    before = (sealed / "rhizome.db").read_bytes()  # nothing written, whatever the encryption
    result = invoke(None, "restore", str(backup), "--home", str(sealed), env=SEALED)
    assert_one_line_error(result, "not an empty folder")
    assert (sealed / "rhizome.db").read_bytes() == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_exit(invoke(None, "restore", str(backup), "--home", str(empty), env=SEALED))
    assert records(empty) == 1


def test_a_backup_signed_by_another_key_restores_nothing(
    make_home: HomeFactory, invoke: Invoke, tmp_path: Path
) -> None:
    """Someone who knows the backup passphrase but not the node key packs a home of their
    own choosing under the node's id: the signature verifies (with their key), the restore
    does not (the restored node key is not the signer)."""
    home = make_home()
    node = Node(home)
    node_id, now = node.node_id, node.now()
    node.close()
    forged = tmp_path / "forged.backup"
    with forged.open("wb") as handle:
        writer = BackupWriter(
            handle, SigningIdentity.generate(), node_id, "Hub", now, BACKUP_PASSPHRASE
        )
        with tarfile.open(fileobj=writer, mode="w|") as tar:  # type: ignore[call-overload]
            for path in sorted(home.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(home)), recursive=False)
        writer.close()
    target = tmp_path / "restored"
    result = invoke(None, "restore", str(forged), "--home", str(target), env=UNSEALED)
    assert_one_line_error(result, "signed by another key than its node's own")
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []
