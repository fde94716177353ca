"""The tutorial runs as written: every command of docs/tutorial/first-node.md, in order, in a
shell on a pseudo-terminal (as a reader types them), with the files it tells the reader to
write, and each output it shows compared with what the command prints.

What the reader's machine changes is mapped, not ignored: the reader's own record ids and
node id (taken from the outputs as they appear), dates and times, file sizes, the home
folder, and the port (a free one instead of 8470, which another program may hold). Prompts
for the passphrase are left out (``RHIZOME_PASSPHRASE`` answers them). ``…`` in a shown
output stands for any text. ``make test`` (the whole suite) and activating the venv are not
run: the test already runs inside it.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.tls_helpers import any_node_tls

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial" / "first-node.md"
VENV_BIN = Path(sys.executable).parent
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
FILE_NAME = re.compile(r"`([\w./-]+\.md)`")
RECORD_ID = re.compile(r"^[0-9a-f]{64}$")
NODE_ID = re.compile(r"^[A-Z2-7]{7}(-[A-Z2-7]{7}){7}$")
PROMPTS = ("Passphrase for the node key:", "New passphrase", "Type it again:")
NOT_RUN = ("make test", ". .venv/bin/activate")
SHOWN_PORT = "8470"
DOC_USER_HOME = "/home/amina"
PASSPHRASE = "plum kettle river lantern"
COLUMNS, ROWS = 120, 50
COMMAND_DEADLINE = 120.0
DATE = r"\d{4}-\d\d-\d\d"
TIME = r"\d\d:\d\d:\d\d"


@dataclass
class Block:
    language: str
    text: str
    before: str  # the prose just above it


def blocks(markdown: str) -> list[Block]:
    found, last_end = [], 0
    for match in BLOCK.finditer(markdown):
        found.append(Block(match.group(1), match.group(2), markdown[last_end : match.start()]))
        last_end = match.end()
    return found


@dataclass
class Reader:
    """The reader's machine: a home folder, a shell state kept between commands, and the
    mapping from what the tutorial shows to what this machine printed."""

    home: Path
    port: int
    cwd: Path = ROOT
    env_file: Path = field(init=False)
    shown_to_real: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.env_file = self.home / ".tutorial-env"
        env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
        env.update(
            HOME=str(self.home), PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
            RHIZOME_PASSPHRASE=PASSPHRASE, COLUMNS=str(COLUMNS), LINES=str(ROWS),
            TERM="xterm", LC_ALL="C.UTF-8",
        )  # fmt: skip
        env.pop("NO_COLOR", None)
        self.env = env
        self.env_file.write_text("")

    # -- mapping what the page shows to this machine --------------------------------------

    def real(self, text: str) -> str:
        """``text`` with the page's ids, port and home folder replaced by this machine's."""
        for shown, real in self.shown_to_real.items():
            text = re.sub(rf"\b{re.escape(shown[:4])}[0-9a-fA-Z-]*", _prefix_of(shown, real), text)
        text = text.replace(f"{DOC_USER_HOME}/", f"{self.home}/")
        return text.replace(SHOWN_PORT, str(self.port))

    def learn(self, shown: str, printed: str) -> None:
        """Pair the ids the page shows with the ids this machine printed, in order."""
        shown_ids = [line for line in shown.splitlines() if _is_id(line.strip())]
        real_ids = [line.strip() for line in printed.splitlines() if _is_id(line.strip())]
        for page_id, real_id in zip(shown_ids, real_ids, strict=False):
            self.shown_to_real.setdefault(page_id.strip(), real_id)

    # -- running commands -----------------------------------------------------------------

    def run(self, script: str) -> str:
        """The block in bash on a pseudo-terminal; what it printed (no colours)."""
        cwd_file = self.home / ".tutorial-cwd"
        cwd_file.write_text(str(self.cwd))
        wrapped = (
            f'set -a; . "{self.env_file}"; set +a; cd "$(cat "{cwd_file}")"\n{script}\n'
            f'status=$?; pwd > "{cwd_file}"; export -p > "{self.env_file}"; exit $status\n'
        )
        pid, fd = pty.fork()
        if pid == 0:  # the child: a terminal as wide as a usual window, then bash
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
                argv = ["/bin/bash", "--noprofile", "--norc", "-c", wrapped]
                os.execve("/bin/bash", argv, self.env)
            finally:
                os._exit(127)  # never run the rest of the test suite in the child
        printed = _read_all(fd, pid)
        self.cwd = Path(cwd_file.read_text().strip())
        return ANSI.sub("", printed.replace("\r", ""))

    def start_server(self, command: str) -> str:
        argv = [*command.split(), "--port", str(self.port)]
        env = {**self.env, **_exported(self.env_file)}
        self.server = subprocess.Popen(
            argv, cwd=self.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                url = f"https://127.0.0.1:{self.port}/healthz"  # only: is it up yet?
                with urllib.request.urlopen(url, timeout=2, context=any_node_tls()):
                    break
            except OSError:
                assert self.server.poll() is None, "rhizome serve ended early"
                time.sleep(0.2)
        else:
            pytest.fail("rhizome serve did not start")
        return _available(self.server)

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            self.server.wait(timeout=20)
        if self.server is not None and self.server.stdout:
            self.server.stdout.close()
        self.server = None


def _prefix_of(shown: str, real: str) -> Callable[[re.Match[str]], str]:
    """Replace the page's id, or a beginning of it, by the same length of the real id."""

    def replace(match: re.Match[str]) -> str:
        text = match.group()
        return real[: len(text)] if shown.startswith(text) else text

    return replace


def _is_id(text: str) -> bool:
    return bool(RECORD_ID.match(text) or NODE_ID.match(text))


def _exported(env_file: Path) -> dict[str, str]:
    found = {}
    for line in env_file.read_text().splitlines():
        match = re.match(r'declare -x (\w+)="(.*)"$', line)
        if match:
            found[match.group(1)] = match.group(2).replace('\\"', '"')
    return found


def _available(process: subprocess.Popen[bytes]) -> str:
    """What a running process printed so far (its first lines)."""
    assert process.stdout is not None
    chunks = []
    while select.select([process.stdout], [], [], 1.0)[0]:
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _read_all(fd: int, pid: int) -> str:
    chunks, deadline = [], time.monotonic() + COMMAND_DEADLINE
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("a tutorial command did not finish")
    os.waitpid(pid, 0)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


# -- comparing what the page shows with what was printed ------------------------------------


def line_pattern(line: str) -> re.Pattern[str]:
    if re.match(r"^[d-][rwx-]{9} ", line):  # `ls -l`: the mode and the name; sizes differ
        mode, name = line.split()[0], line.split()[-1]
        return re.compile(rf"{re.escape(mode)}\.? .* {re.escape(name)}")
    pattern = re.escape(line.strip())
    pattern = pattern.replace("…", ".*")
    pattern = re.sub(r"\d{4}\\-\d\d\\-\d\dT\d\d:\d\d:\d\dZ", lambda _: f"{DATE}T{TIME}Z", pattern)
    pattern = re.sub(r"\d{4}\\-\d\d\\-\d\d", lambda _: DATE, pattern)
    pattern = re.sub(r"(?:\\ ){2,}", lambda _: r"\s+", pattern)  # table columns: any spacing
    return re.compile(pattern)


def assert_shows(shown: str, printed: str, command: str) -> None:
    """Each line the page shows is printed, in the same order (other lines may be between)."""
    if shown.lstrip().startswith("{"):
        return _assert_json_like(shown, printed, command)
    printed_lines = [line.strip() for line in printed.splitlines() if line.strip()]
    position = 0
    for line in shown.splitlines():
        if not line.strip() or line.strip() == "…" or line.strip().startswith(PROMPTS):
            continue
        pattern = line_pattern(line)
        for index in range(position, len(printed_lines)):
            if pattern.fullmatch(printed_lines[index]):
                position = index + 1
                break
        else:
            pytest.fail(
                f"docs/tutorial/first-node.md: `{command}` does not print\n  {line.strip()}\n"
                f"it printed:\n" + "\n".join(f"  {item}" for item in printed_lines)
            )
    return None


def _assert_json_like(shown: str, printed: str, command: str) -> None:
    text = printed[printed.index("{") :] if "{" in printed else printed
    value = json.loads(text)
    assert isinstance(value, dict), command
    if "…" not in shown:
        assert value == json.loads(shown), f"`{command}` prints {value}"
        return
    indent = min(len(m) for m in re.findall(r'^( +)"', shown, re.MULTILINE))
    keys = set(re.findall(rf'^ {{{indent}}}"(\w+)":', shown, re.MULTILINE))  # the top level
    missing = keys - set(value)
    assert not missing, f"`{command}` prints no {sorted(missing)}"


# -- the files the page tells the reader to write --------------------------------------------


def file_to_write(block: Block) -> str | None:
    last_paragraph = block.before.strip().split("\n\n")[-1]
    names = FILE_NAME.findall(last_paragraph)
    if not names or block.language not in ("markdown", "text"):
        return None
    if (
        "Create" in last_paragraph
        or last_paragraph.rstrip().endswith(":")
        or "which has" in (last_paragraph)
    ):
        return names[0]
    return None


def apply_edit(reader: Reader, block: Block, edited: Path) -> None:
    """Step 7's two changes to the copied file, as the page describes them."""
    text = edited.read_text()
    if block.language == "yaml":  # the new line goes between the two lines shown around it
        first, new, _ = block.text.splitlines()
        text = text.replace(first + "\n", f"{first}\n{reader.real(new)}\n", 1)
    else:  # a line "under 'Seven days before'": after that section's last item
        section = text.split("## Seven days before", 1)[1].split("\n## ", 1)[0]
        last_item = section.rstrip("\n").split("\n")[-1]
        text = text.replace(last_item + "\n", f"{last_item}\n{block.text}", 1)
    edited.write_text(text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(600)
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    reader = Reader(home=tmp_path, port=free_port())
    steps = blocks(TUTORIAL.read_text(encoding="utf-8"))
    edited: Path | None = None
    try:
        for index, block in enumerate(steps):
            if block.language == "sh":
                shown = steps[index + 1] if index + 1 < len(steps) else None
                expected = shown.text if shown and shown.language == "text" else None
                edited = _run_block(reader, block, expected) or edited
            elif (name := file_to_write(block)) is not None:
                target = reader.cwd / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(reader.real(block.text), encoding="utf-8")
            elif (
                block.language in ("yaml", "markdown")
                and edited is not None
                and ("add" in block.before.strip().split("\n\n")[-1])
            ):
                apply_edit(reader, block, edited)
    finally:
        reader.stop_server()


def _run_block(reader: Reader, block: Block, expected: str | None) -> Path | None:
    """Run one shell block; the file it copies for editing, if it does (step 7)."""
    commands = [line for line in block.text.splitlines() if line.strip()]
    if any(line.startswith(NOT_RUN) for line in commands):
        commands = [line for line in commands if not line.startswith(NOT_RUN)]
    if commands == ["rhizome serve"]:
        printed = reader.start_server("rhizome serve")
    else:
        script = reader.real("\n".join(commands))
        if "rm -rf ~/rhizome-tutorial" in script:
            reader.stop_server()
        printed = reader.run(script)
    if expected is not None:
        expected_here = reader.real(expected)
        reader.learn(expected, printed)
        assert_shows(reader.real(expected_here), printed, block.text.strip())
    copy = re.match(r"cp (\S+) (\S+)$", commands[0]) if commands else None
    return reader.cwd / copy.group(2) if copy else None
