"""The passphrase at a terminal: three tries, and nothing asked for input that is bad anyway.

These run ``rhizome`` on a real pseudo-terminal, as an operator types into it.
"""

from __future__ import annotations

import os
import pty
import select
import time
from pathlib import Path

import pytest

from tests.conftest import HomeFactory, write_lesson
from tests.node.conftest import Invoke, assert_clean_exit
from tests.node.test_serve_process import RHIZOME

PASSPHRASE = "correct horse battery staple"
PROMPT = b"Passphrase for the node key: "
DEADLINE = 30.0


class Terminal:
    """``rhizome ARGS`` with a pseudo-terminal as its controlling terminal."""

    def __init__(self, *args: str) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execve(str(RHIZOME), [str(RHIZOME), *args], env)
        self.seen = b""

    def expect(self, text: bytes) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in self.seen:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} not shown; the terminal shows {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the child ended and closed the terminal
                    chunk = b""
                if not chunk:
                    pytest.fail(f"{text!r} never shown; the terminal showed {self.seen!r}")
                self.seen += chunk
        self.seen = self.seen.split(text, 1)[1]

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def finish(self) -> tuple[int, str]:
        """Exit status and everything shown after the last expected text."""
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status), self.seen.decode(errors="replace")


@pytest.fixture
def sealed(make_home: HomeFactory) -> Path:
    return make_home(passphrase=PASSPHRASE)


@pytest.fixture
def lesson(tmp_path: Path) -> Path:
    return write_lesson(tmp_path, "l.md", {"title": "Buddy pairs", "kind": "checklist"}, "Go.\n")


def test_a_typo_gets_two_more_tries(sealed: Path, lesson: Path) -> None:
    terminal = Terminal("--home", str(sealed), "lesson", "add", str(lesson))
    terminal.expect(PROMPT)
    terminal.type("wrong one")
    terminal.expect(b"Wrong passphrase, 2 tries left.")
    terminal.expect(PROMPT)
    terminal.type("wrong two")
    terminal.expect(b"Wrong passphrase, 1 try left.")
    terminal.expect(PROMPT)
    terminal.type(PASSPHRASE)
    code, shown = terminal.finish()
    assert code == 0, shown
    assert "Buddy pairs" in shown and "Added" in shown


def test_three_wrong_passphrases_end_with_one_line(sealed: Path, lesson: Path) -> None:
    terminal = Terminal("--home", str(sealed), "lesson", "add", str(lesson))
    for _ in range(3):
        terminal.expect(PROMPT)
        terminal.type("not it")
    code, shown = terminal.finish()
    assert code == 1
    assert "Traceback" not in shown
    assert "Error: " in shown and "wrong passphrase" in shown
    assert PROMPT.decode() not in shown  # no fourth prompt


@pytest.mark.parametrize("problem", ["missing", "invalid"])
def test_bad_input_is_refused_once_the_sealed_home_is_open(
    sealed: Path, tmp_path: Path, problem: str
) -> None:
    """A sealed home's database is encrypted, so the passphrase opens the home first; the
    bad lesson is then refused with one error line and no second prompt."""
    path = tmp_path / "nothing.md"
    if problem == "invalid":
        path = write_lesson(tmp_path, "bad.md", {"title": "x", "kind": "not-a-kind"}, "Go.\n")
    terminal = Terminal("--home", str(sealed), "lesson", "add", str(path))
    terminal.expect(PROMPT)
    terminal.type(PASSPHRASE)
    code, shown = terminal.finish()
    assert code != 0
    assert PROMPT.decode() not in shown
    assert "Error" in shown and "Traceback" not in shown


def test_a_systemd_credential_opens_the_key(
    sealed: Path, lesson: Path, tmp_path: Path, invoke: Invoke
) -> None:
    """Under systemd (``LoadCredentialEncrypted=rhizome-passphrase:…``) the passphrase is a
    private file in ``$CREDENTIALS_DIRECTORY``, never in the environment."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "rhizome-passphrase").write_text(PASSPHRASE + "\n")
    result = invoke(
        sealed, "lesson", "add", str(lesson), env={"CREDENTIALS_DIRECTORY": str(credentials)}
    )
    assert_clean_exit(result)
    (credentials / "rhizome-passphrase").write_text("not it")
    refused = invoke(
        sealed, "lesson", "add", str(lesson), env={"CREDENTIALS_DIRECTORY": str(credentials)}
    )
    assert refused.exit_code == 1 and "wrong passphrase" in refused.output
