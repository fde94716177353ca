"""Opening fetched records on the second core: a long-lived process verifies a batch while
the writer thread stores the one before.

A first sync of a large archive is bound by the receiving node's one writer thread: each
record is verified (Ed25519), decoded, checked canonical and validated, then decided, logged
and inserted. Python holds one core per process (the GIL), so the first half goes to a
process of its own (:data:`VERIFIERS` of them, started once, on first use, with ``spawn``:
nothing of the parent's threads or database connections is inherited). The sync engine hands
it each answer as it arrives (federation/sync.py), so batch N+1 is opened there while batch
N is stored here.

What the process checks is exactly :func:`archive.signed_record.open_record` without the
key-history question (whether the signing key spoke for the origin when the record was
made): that needs the database, so the writer asks it before it stores anything
(:meth:`Opened.record_under`). A record is never stored unopened: one the process refused
is refused by the writer with the process's reason, and the sender gets its strike.

A process that dies (killed, out of memory) is replaced; the batch in hand is then opened in
the writer thread as before, so a sync never depends on the pool. The other way round, a
verifier outlives no node: a node killed with kill -9 never tells its pool to stop, and a
worker waiting for work would wait forever (it holds a writing end of its own task queue),
keeping the node's standard output open; each one watches its parent and exits with it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from archive.record import Lesson
from archive.signed_record import (
    KeyCheck,
    SignedRecord,
    open_record,
    record_signer,
    signer_standing,
)
from crypto.errors import RhizomeError
from crypto.key_history import VALID

log = logging.getLogger("rhizome.federation")
# One process: the second core of a two-core hub. More would take the cores the serving
# side and the writer need.
VERIFIERS = 1
# Fewer records than this are opened in the writer thread: the round trip would cost more.
MIN_POOL_BATCH = 16
WHERE = "received record"
PARENT_CHECK_SECONDS = 0.5  # how soon a verifier notices that its node is gone
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class Opened:
    """A record the verifier opened: its lesson, id and signing key (the envelope bytes are
    the caller's own, never sent back)."""

    lesson: Lesson
    record_id: bytes
    signer: bytes

    def record_under(self, raw: bytes, keys: KeyCheck) -> tuple[SignedRecord, str]:
        """The record, once the key history says its signer spoke for its origin; with
        that standing (VALID or SUSPECT). Raises as :func:`open_record` would."""
        standing = signer_standing(self.lesson, self.signer, WHERE, keys)
        return SignedRecord(self.lesson, raw, self.record_id), standing


# What the verifier says of one envelope: opened, or why not (the error's words).
Verdict = Opened | str


def _any_signer(_origin: bytes, _signer: bytes, _made: int) -> str:
    """The verifier has no database: the signer's standing is the writer's question."""
    return VALID


def open_batch(raws: list[bytes]) -> list[Verdict]:
    """Verify and open each envelope (runs in the verifier process)."""
    found: list[Verdict] = []
    for raw in raws:
        try:
            record = open_record(raw, WHERE, _any_signer)
        except RhizomeError as error:
            found.append(str(error))
            continue
        found.append(Opened(record.lesson, record.record_id, record_signer(record)))
    return found


def exit_with_parent(parent: int) -> None:
    """Each verifier's initializer: a thread that ends the process once ``parent`` (the
    node) is gone, however it ended."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="rhizome-verifier-parent", daemon=True).start()


def _verifiers() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                VERIFIERS, mp_context=context,
                initializer=exit_with_parent, initargs=(os.getpid(),),
            )  # fmt: skip
        return _pool


def _replace_broken(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def worth_a_process(raws: list[bytes]) -> bool:
    return len(raws) >= MIN_POOL_BATCH and (os.cpu_count() or 1) > 1


async def open_elsewhere(raws: list[bytes]) -> list[Verdict] | None:
    """Each envelope opened by the verifier process; None when it is not worth it or the
    process failed (then the writer opens them itself)."""
    if not worth_a_process(raws):
        return None
    pool = _verifiers()
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, open_batch, raws)
    except BrokenProcessPool:
        log.warning("the record verifier process died; a new one starts for the next batch")
        _replace_broken(pool)
        return None
