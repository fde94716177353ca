"""Our Negentropy v1 against an independent implementation (npm: @nostr-dev-kit/sync).

Each side runs as its own process behind the line protocol of the reference repository's
test harnesses (``python -m federation.negentropy`` and ``negentropy_harness.mjs``); the test
is the driver that carries messages between them, as the reference's fuzz.pl does. Both
roles, with and without a frame size limit. Install the JS side with tests/interop/install.sh.
"""

from __future__ import annotations

import os
import queue
import random
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.interop

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parents[1]
PYTHON_HARNESS = [sys.executable, "-m", "federation.negentropy"]
JS_HARNESS = ["node", str(INTEROP_DIR / "negentropy_harness.mjs")]
LINE_TIMEOUT_SECONDS = 30
MAX_ROUNDS = 5_000

Item = tuple[int, bytes]


@pytest.fixture(scope="module")
def js_harness() -> list[str]:
    installed = (INTEROP_DIR / "node_modules" / "@nostr-dev-kit" / "sync").is_dir()
    if not installed or shutil.which("node") is None:
        message = (
            "Negentropy interop needs Node.js and tests/interop/node_modules: "
            "run tests/interop/install.sh"
        )
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run these, never skip them silently
        pytest.skip(message)
    return JS_HARNESS


class HarnessProcess:
    """One harness process; its stdout lines are read by a thread so reads can time out."""

    def __init__(self, command: list[str], frame_size_limit: int) -> None:
        env = {**os.environ, "FRAMESIZELIMIT": str(frame_size_limit), "PYTHONPATH": str(REPO_ROOT)}
        self.command = command
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            text=True,
            bufsize=1,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of output

    def send(self, *lines: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("".join(line + "\n" for line in lines))
        self.process.stdin.flush()

    def read_line(self) -> str:
        try:
            line = self.lines.get(timeout=LINE_TIMEOUT_SECONDS)
        except queue.Empty:
            raise AssertionError(f"{self.command[0]} harness answered nothing") from None
        if not line:
            raise AssertionError(f"{self.command[0]} harness exited: {self._stderr()}")
        return line

    def _stderr(self) -> str:
        self.process.kill()
        assert self.process.stderr is not None
        return self.process.stderr.read().strip()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@dataclass
class Outcome:
    have: list[bytes] = field(default_factory=list)
    need: list[bytes] = field(default_factory=list)
    message_sizes: list[int] = field(default_factory=list)


def reconcile_between(
    initiator: HarnessProcess,
    responder: HarnessProcess,
    initiator_items: list[Item],
    responder_items: list[Item],
) -> Outcome:
    """Drive one session to ``done``, carrying each message across, and record what happens."""
    for harness, items in ((initiator, initiator_items), (responder, responder_items)):
        harness.send(*(f"item,{timestamp},{id_.hex()}" for timestamp, id_ in items), "seal")
    initiator.send("initiate")
    outcome = Outcome()
    for _ in range(MAX_ROUNDS):
        line = initiator.read_line()
        while line.startswith(("have,", "need,")):
            kind, _, id_hex = line.partition(",")
            (outcome.have if kind == "have" else outcome.need).append(bytes.fromhex(id_hex))
            line = initiator.read_line()
        if line == "done":
            return outcome
        answer = carry(line, responder, outcome)
        carry(answer, initiator, outcome, expect_reply=False)
    raise AssertionError(f"no convergence after {MAX_ROUNDS} rounds")


def carry(line: str, to: HarnessProcess, outcome: Outcome, *, expect_reply: bool = True) -> str:
    assert line.startswith("msg,"), f"expected a message, got {line!r}"
    outcome.message_sizes.append(len(line) // 2 - 2)
    to.send(line)
    return to.read_line() if expect_reply else ""


def random_sets(seed: int, size: int) -> tuple[list[Item], list[Item]]:
    """Two sets that share most items; crowded timestamps so ids must break ties in bounds.

    Timestamps stay below 2**31: the JS library decodes varints with 32-bit shifts.
    """
    rng = random.Random(seed)
    spread = rng.choice([1, 10, max(size, 1)])

    def items(count: int) -> list[Item]:
        return [(1_600_000_000 + rng.randrange(spread), rng.randbytes(32)) for _ in range(count)]

    common = items(size)
    only_a = items(rng.randrange(0, size // 4 + 2))
    only_b = items(rng.randrange(0, size // 4 + 2))
    return common + only_a, common + only_b


CASES = [
    pytest.param(seed, size, limit, id=f"seed{seed}-n{size}-limit{limit}")
    for seed, size in ((1, 0), (2, 50), (3, 700), (4, 3000))
    for limit in (0, 4096)
]


@pytest.mark.parametrize("ours_initiates", [True, False], ids=["py-initiates", "js-initiates"])
@pytest.mark.parametrize(("seed", "size", "limit"), CASES)
def test_both_implementations_converge(
    js_harness: list[str], ours_initiates: bool, seed: int, size: int, limit: int
) -> None:
    initiator_items, responder_items = random_sets(seed, size)
    commands = (PYTHON_HARNESS, js_harness) if ours_initiates else (js_harness, PYTHON_HARNESS)
    initiator = HarnessProcess(commands[0], limit)
    responder = HarnessProcess(commands[1], limit)
    try:
        outcome = reconcile_between(initiator, responder, initiator_items, responder_items)
    finally:
        initiator.close()
        responder.close()

    initiator_ids = {id_ for _, id_ in initiator_items}
    responder_ids = {id_ for _, id_ in responder_items}
    assert set(outcome.have) == initiator_ids - responder_ids
    assert set(outcome.need) == responder_ids - initiator_ids
    if ours_initiates:  # ours reports each id once, even when frame limits re-cover ranges
        assert len(outcome.have) == len(set(outcome.have))
        assert len(outcome.need) == len(set(outcome.need))
    if limit:
        assert max(outcome.message_sizes) <= limit
