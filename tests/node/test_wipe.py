"""``rhizome wipe``: keys first, then the server, then the home; interrupted (an exception, or
``kill -9``) after every step, nothing left can be decrypted, even with the right passphrase;
a bad confirmation or a folder that is no node home deletes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crypto.errors import RhizomeError
from governance.members import active_member
from governance.roles import NotAllowed
from node.actions.wipe import WipeNode, WipeNotConfirmed, authorize_wipe
from node.node import Node
from node.serve_lock import current_holder
from node.wipe import MARKER, STEPS, NotANodeHome, key_material_paths, wipe_home
from tests.conftest import HomeFactory
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error
from tests.node.test_serve_lock import clean_env
from tests.node.test_serve_process import free_port, wait_until_healthy

PASSPHRASE = "correct horse battery staple"
ROOT = Path(__file__).parents[2]
# The CLI of this checkout (not whatever `rhizome` is installed), in a process of its own.
CLI = [sys.executable, "-c", "from node.cli import main; main()"]
SECRETS = ("node.key", "members/admin.key", "session.key", "api_token.key")


class Interrupted(Exception):
    """The power went out after a step."""


@pytest.fixture
def sealed(make_home: HomeFactory) -> Path:
    """A node with a passphrase, a second member and the web and API secrets made."""
    home = make_home(passphrase=PASSPHRASE)
    for name in ("session.key", "api_token.key"):
        (home / name).write_bytes(os.urandom(32))
        (home / name).chmod(0o600)
    return home


def nothing_decryptable(home: Path, was_sealed: bool) -> None:
    """No key file left, and the right passphrase opens neither the key nor the archive."""
    assert key_material_paths(home) == []
    for name in SECRETS:
        assert not (home / name).exists(), name
    if not home.exists():
        return
    with pytest.raises(RhizomeError):
        node = Node(home, passphrase=lambda: PASSPHRASE)
        try:
            node.identity  # noqa: B018 -- opening the key is the point
        finally:
            node.close()
    if was_sealed:  # a sealed database (its key in home.key) cannot be opened at all now
        with pytest.raises(RhizomeError):
            Node(home, passphrase=lambda: PASSPHRASE).close()


def is_sealed_at_rest(home: Path) -> bool:
    """Whether the database is encrypted (not a plain SQLite file)."""
    with (home / "rhizome.db").open("rb") as database:
        return database.read(16) != b"SQLite format 3\x00"


def key_files(home: Path) -> set[str]:
    """The key files the home holds now (home.key too once the home is sealed at rest)."""
    return {name for name in ("home.key", *SECRETS) if (home / name).exists()}


@pytest.mark.parametrize("step", STEPS)
def test_interrupted_after_each_step_nothing_is_decryptable(sealed: Path, step: str) -> None:
    was_sealed = is_sealed_at_rest(sealed)

    def power_cut(done: str) -> None:
        if done == step:
            raise Interrupted(done)

    with pytest.raises(Interrupted):
        wipe_home(sealed, after_step=power_cut)
    nothing_decryptable(sealed, was_sealed)
    if sealed.exists():  # the marker lets `rhizome wipe` finish what is left
        assert (sealed / MARKER).exists()
        wipe_home(sealed)
    assert not sealed.exists()


KILLER = """
import os, signal, sys
from pathlib import Path
from node.wipe import wipe_home
step = sys.argv[2]
wipe_home(Path(sys.argv[1]),
          after_step=lambda done: os.kill(os.getpid(), signal.SIGKILL) if done == step else None)
"""


@pytest.mark.parametrize("step", STEPS)
def test_killed_after_each_step_nothing_is_decryptable(sealed: Path, step: str) -> None:
    was_sealed = is_sealed_at_rest(sealed)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(sealed), step], capture_output=True, timeout=60,
        env=clean_env(), cwd=ROOT,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    nothing_decryptable(sealed, was_sealed)


def test_a_wipe_destroys_the_keys_first_and_removes_the_home(sealed: Path) -> None:
    held = key_files(sealed)
    assert set(SECRETS) <= held
    steps: list[tuple[str, list[Path]]] = []

    def note(done: str) -> None:
        steps.append((done, key_material_paths(sealed) if sealed.exists() else []))

    report = wipe_home(sealed, after_step=note)
    assert [done for done, _ in steps] == list(STEPS)
    assert all(left == [] for _, left in steps)  # no key file after the very first step
    assert sorted(report.destroyed) == sorted(held)
    assert not sealed.exists()


def test_a_folder_that_is_no_node_home_is_never_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "node.key").write_bytes(b"not ours")
    with pytest.raises(NotANodeHome, match="not a Rhizome node home; nothing was deleted"):
        wipe_home(folder)
    assert (folder / "node.key").read_bytes() == b"not ours"


def test_a_wrong_confirmation_deletes_nothing(sealed: Path) -> None:
    node = Node(sealed, passphrase=lambda: PASSPHRASE)
    try:
        admin = active_member(node.db, "admin")
        with pytest.raises(WipeNotConfirmed, match="does not match the node's name"):
            authorize_wipe(node.config.name, WipeNode(admin, "nairobi hub"))
        authorize_wipe(node.config.name, WipeNode(admin, f"  {node.config.name} "))
    finally:
        node.close()
    assert key_material_paths(sealed)


def test_only_an_admin_may_wipe_from_the_web(sealed: Path, invoke: Invoke) -> None:
    env = {"RHIZOME_PASSPHRASE": PASSPHRASE}
    assert_clean_exit(invoke(sealed, "member", "add", "grace", "--role", "steward", env=env))
    node = Node(sealed, passphrase=lambda: PASSPHRASE)
    try:
        grace = active_member(node.db, "grace")
        with pytest.raises(NotAllowed, match="grace may not wipe this node"):
            authorize_wipe(node.config.name, WipeNode(grace, node.config.name))
    finally:
        node.close()


def test_the_cli_without_a_terminal_or_the_flag_deletes_nothing(
    sealed: Path, invoke: Invoke
) -> None:
    assert_one_line_error(invoke(sealed, "wipe"), "--yes-destroy-this-node", "Nothing was deleted")
    assert key_material_paths(sealed) and (sealed / "rhizome.db").exists()


def test_the_cli_wipes_with_the_flag(sealed: Path, invoke: Invoke) -> None:
    count = len(key_files(sealed))
    result = invoke(sealed, "wipe", "--yes-destroy-this-node")
    assert_clean_exit(result)
    assert f"destroyed {count} key files first" in result.output
    assert not sealed.exists()


def test_the_cli_refuses_a_folder_that_is_no_node_home(tmp_path: Path, invoke: Invoke) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert_one_line_error(invoke(tmp_path, "wipe", "--yes-destroy-this-node"), "not a Rhizome")
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_a_wipe_stops_the_running_server(make_home: HomeFactory) -> None:
    home = make_home()
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "--home", str(home), "serve", "--port", str(port)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=clean_env(), cwd=ROOT,
    )  # fmt: skip
    try:
        wait_until_healthy(server, f"https://127.0.0.1:{port}", home)
        holder = current_holder(home)
        assert holder is not None and holder.pid == server.pid
        wiped = subprocess.run(
            [*CLI, "--home", str(home), "wipe", "--yes-destroy-this-node"],
            capture_output=True, text=True, timeout=60, env=clean_env(), cwd=ROOT,
        )  # fmt: skip
        assert wiped.returncode == 0, wiped.stderr
        assert f"stopped its server (PID {server.pid})" in wiped.stdout
        assert server.wait(timeout=10) is not None
        assert not home.exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def test_wipe_needs_no_passphrase(sealed: Path, invoke: Invoke) -> None:
    """A panic wipe must not wait for someone to type the passphrase."""
    result = invoke(sealed, "wipe", "--yes-destroy-this-node", env={"RHIZOME_PASSPHRASE": None})
    assert_clean_exit(result)
    assert not sealed.exists()


def test_every_key_file_is_listed(sealed: Path) -> None:
    """Member keys and the web and API secrets are key material too: every one is found."""
    listed = {str(path.relative_to(sealed)) for path in key_material_paths(sealed)}
    assert listed == key_files(sealed) and set(SECRETS) <= listed


def test_the_home_key_goes_first(make_home: HomeFactory) -> None:
    """Without the home key nothing of a sealed home can be decrypted: it is destroyed first."""
    home = make_home(passphrase=PASSPHRASE)
    if not (home / "home.key").exists():  # a home made before sealing at rest: stand one in
        (home / "home.key").write_bytes(os.urandom(64))
    assert key_material_paths(home)[0] == home / "home.key"
    report = wipe_home(home)
    assert report.destroyed[0] == "home.key" and not home.exists()
