"""A line-protocol harness, as in the reference repository's test/ directory.

``python -m federation.negentropy`` reads commands on stdin and answers on stdout, so that an
independent implementation's harness can be paired with ours by a driver (see
tests/interop/). Commands: ``item,TIMESTAMP,IDHEX``, ``seal``, ``initiate``, ``msg,HEX``.
Answers: ``msg,HEX``; the initiator also prints ``have,IDHEX`` and ``need,IDHEX`` lines and
``done`` when it has nothing more to send. ``FRAMESIZELIMIT`` in the environment sets the
frame size limit. Any error ends the process with status 1 and one line on stderr.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from federation.negentropy.errors import NegentropyError
from federation.negentropy.facade import Negentropy
from federation.negentropy.protocol import ReconcileResult
from federation.negentropy.storage import Storage


class HarnessError(Exception):
    """A command the harness cannot carry out (bad line, frame limit broken)."""


class Harness:
    """One reconciliation side driven by text commands."""

    def __init__(self, output: TextIO, frame_size_limit: int) -> None:
        self._output = output
        self._frame_size_limit = frame_size_limit
        self._storage = Storage()
        self._session: Negentropy | None = None

    def handle(self, line: str) -> None:
        command, _, argument = line.strip().partition(",")
        if not command:
            return  # blank lines are ignored, as by the reference harness
        handler = {
            "item": self._item,
            "seal": self._seal,
            "initiate": self._initiate,
            "msg": self._message,
        }.get(command)
        if handler is None:
            raise HarnessError(f"unknown command: {command}")
        handler(argument)

    def _item(self, argument: str) -> None:
        fields = argument.split(",")
        if len(fields) != 2:
            raise HarnessError("item needs TIMESTAMP,IDHEX")
        self._storage.insert(int(fields[0]), bytes.fromhex(fields[1].strip()))

    def _seal(self, _argument: str) -> None:
        self._storage.seal()
        self._session = Negentropy(self._storage, self._frame_size_limit)

    def _initiate(self, _argument: str) -> None:
        self._send(self._sealed_session().initiate())

    def _message(self, argument: str) -> None:
        answer = self._sealed_session().reconcile(bytes.fromhex(argument.strip()))
        if isinstance(answer, ReconcileResult):
            self._print_differences(answer)
            if answer.next_message is None:
                self._print_line("done")
                return
            answer = answer.next_message
        self._send(answer)

    def _print_differences(self, result: ReconcileResult) -> None:
        lines = [f"have,{id_.hex()}" for id_ in result.have_ids]
        lines += [f"need,{id_.hex()}" for id_ in result.need_ids]
        if lines:
            self._output.write("\n".join(lines) + "\n")

    def _send(self, message: bytes) -> None:
        if self._frame_size_limit and len(message) > self._frame_size_limit:
            raise HarnessError(
                f"frame size limit exceeded: {len(message)} > {self._frame_size_limit}"
            )
        self._print_line(f"msg,{message.hex()}")

    def _print_line(self, line: str) -> None:
        self._output.write(line + "\n")
        self._output.flush()  # the driver waits for this line before it writes again

    def _sealed_session(self) -> Negentropy:
        if self._session is None:
            raise HarnessError("send seal before initiate or msg")
        return self._session


def main() -> int:
    harness = Harness(sys.stdout, int(os.environ.get("FRAMESIZELIMIT") or 0))
    try:
        for line in sys.stdin:
            harness.handle(line)
    except (HarnessError, NegentropyError, ValueError) as error:
        print(f"negentropy harness: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
