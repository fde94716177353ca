"""Attack: the disk of a sealed hub is seized.

The attacker takes the machine of a hub that was sealed with a passphrase (a raid, a border
search, a theft) and reads every byte of its home: while ``rhizome serve`` runs (a live
image of the disk), right after a power cut (``kill -9``: WAL and shared-memory files left
as they were), and after a participant withdrew their story (hoping the freed pages, the
WAL or the search index still hold it).

What must hold:

- the text of a ``scope: local`` lesson (a canary) is in no file of the home, in any of
  these moments: the database, its WAL, the search index and every key are encrypted;
- after the lesson is withdrawn, the canary is gone even from what the passphrase decrypts,
  page by page, free pages and WAL frames included (``secure_delete`` zeroes freed pages
  before SQLCipher encrypts them);
- a wrong passphrase opens nothing and changes nothing;
- a hub sealed after it had stored attachments (``rhizome seal`` of an unsealed home) holds
  the bytes of those files, and of a download it had begun, in no file: each is sealed in
  place, the partial download is overwritten and deleted, and the files still read back.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from click.testing import CliRunner

from archive.blobs import BlobStore
from node.cli import main
from node.home import HomePaths
from node.node import Node
from node.seal import seal_home
from tests.attachment_files import BODY_CANARY
from tests.conftest import HomeFactory, write_lesson
from tests.node.test_serve_process import RHIZOME, STOP_TIMEOUT, free_port, wait_until_healthy
from tests.sealed_helpers import (
    CANARY,
    add_story_with_notes,
    decrypted_holding,
    files_holding,
)

PASSPHRASE = "harbor lantern quarry thistle velvet anchor"


def sealed_home_with_canary(make_home: HomeFactory, tmp_path: Path) -> tuple[Path, str]:
    home = make_home(passphrase=PASSPHRASE)
    lesson = write_lesson(
        tmp_path, "story.md", {"title": "What happened at the checkpoint", "kind": "story",
                               "consent": {"scope": "local"}},
        body=f"Participant pseudonyms and places: {CANARY}.\n",
    )  # fmt: skip
    node = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        record = node.add_lesson_file(lesson)
    finally:
        node.close()
    return home, record.id_hex


def test_a_running_and_a_killed_sealed_hub_show_no_canary(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    home, _ = sealed_home_with_canary(make_home, tmp_path)
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    secret.chmod(0o600)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    process = subprocess.Popen(
        [str(RHIZOME), "--home", str(home), "serve", "--port", str(port),
         "--passphrase-file", str(secret)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        health = wait_until_healthy(process, f"https://127.0.0.1:{port}", home)
        assert health["sealed"] is True
        assert (home / "rhizome.db-wal").exists()  # the server holds the database open
        assert files_holding(home, CANARY) == []
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
        assert files_holding(home, CANARY) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        if process.stdout:
            process.stdout.close()
    reopened = Node(home, passphrase=lambda: PASSPHRASE)  # and the hub itself still opens it
    try:
        assert reopened.db.execute("SELECT count(*) FROM records").fetchone()[0] == 1
    finally:
        reopened.close()


def test_a_withdrawn_canary_is_gone_even_with_the_passphrase(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    home, record_id = sealed_home_with_canary(make_home, tmp_path)
    assert decrypted_holding(home, PASSPHRASE, CANARY) > 0  # the check can see it
    result = CliRunner().invoke(
        main, ["--home", str(home), "revoke", record_id, "--reason", "consent-withdrawn"],
        env={"RHIZOME_PASSPHRASE": PASSPHRASE},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert files_holding(home, CANARY) == []
    assert decrypted_holding(home, PASSPHRASE, CANARY) == 0


def test_a_wrong_passphrase_opens_nothing_and_changes_nothing(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    home, _ = sealed_home_with_canary(make_home, tmp_path)
    before = {path: path.read_bytes() for path in home.rglob("*") if path.is_file()}
    result = CliRunner().invoke(
        main, ["--home", str(home), "lesson", "list"], env={"RHIZOME_PASSPHRASE": "guess"}
    )
    assert result.exit_code == 1 and "wrong passphrase" in result.output
    assert {path: path.read_bytes() for path in home.rglob("*") if path.is_file()} == before


def test_files_attached_before_sealing_are_sealed_with_the_home(
    make_home: HomeFactory,
) -> None:
    home = make_home()
    node = Node(home)
    try:
        _, blob = add_story_with_notes(node)
        store = BlobStore.of(node.db)
        notes = store.read(blob)
        store.append_partial(blob, 0, notes[:300])  # a download it had begun, plain
    finally:
        node.close()
    assert files_holding(home, BODY_CANARY.decode()) != []  # the check can see it
    seal_home(HomePaths(home), PASSPHRASE, lambda: "")
    assert files_holding(home, BODY_CANARY.decode()) == []
    assert files_holding(home, CANARY) == []
    sealed = Node(home, passphrase=lambda: PASSPHRASE)
    try:
        store = BlobStore.of(sealed.db)
        assert store.read(blob) == notes
        assert store.partial_size(blob) == 0  # the download starts again, sealed
    finally:
        sealed.close()
