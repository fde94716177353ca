"""Sealing killed with SIGKILL at seeded random points: the home is always usable.

Each round copies one unsealed home with a scope-local lesson that attaches a PDF, and seals
the copy in a real subprocess that SIGKILLs itself at a point picked by the seed (the
database copied, the attachment files sealed, the staging complete, right after the commit
rename, after each file moved in the roll forward, the attachment's among them). Then the
home opens, unsealed as it was when the kill came before the commit, sealed after it (the
interrupted roll forward finished by that open), with its lesson and the attachment's bytes
as they were; a sealed one holds neither canary (lesson, attachment) in any file. (Killing
by the clock instead would mostly hit the interpreter's start on a loaded machine.)
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from archive.blobs import BlobStore
from node.node import Node
from tests.attachment_files import BODY_CANARY
from tests.conftest import HomeFactory
from tests.sealed_helpers import CANARY, add_story_with_notes, files_holding

PASSPHRASE = "harbor lantern quarry thistle velvet anchor"
ROUNDS = 4
POINTS = ("database copied", "attachments sealed", "staged", "committed", "moved rhizome.db",
          "moved node.key", "moved members/admin.key", "moved home.key")  # fmt: skip
BEFORE_THE_COMMIT = ("database copied", "attachments sealed", "staged")
SEAL_AND_DIE = """
import os, signal, sys
from pathlib import Path
from node.home import HomePaths
from node.seal import seal_home

def step(name):
    if name == sys.argv[3]:
        os.kill(os.getpid(), signal.SIGKILL)

seal_home(HomePaths(Path(sys.argv[1])), sys.argv[2], lambda: "", step)
"""


def seal_killed_at(home: Path, point: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    done = subprocess.run(
        [sys.executable, "-c", SEAL_AND_DIE, str(home), PASSPHRASE, point],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr.decode()


def test_seal_killed_at_random_moments_leaves_a_usable_home(
    make_home: HomeFactory, tmp_path: Path, rng: random.Random
) -> None:
    original = make_home()
    node = Node(original)
    try:
        _, blob = add_story_with_notes(node)
        notes = BlobStore.of(node.db).read(blob)
    finally:
        node.close()
    blob_moved = f"moved blobs/{blob[:2]}/{blob[2:]}"  # the roll forward's step for it
    points = [*rng.sample(POINTS, ROUNDS), rng.choice(("attachments sealed", blob_moved))]
    for number, point in enumerate(points):  # a point may come twice: each its own copy
        home = tmp_path / f"{number}-{point.replace(' ', '-').replace('/', '-')}"
        shutil.copytree(original, home)
        seal_killed_at(home, point)
        opened = Node(home, passphrase=lambda: PASSPHRASE)
        try:
            assert opened.db.execute("SELECT count(*) FROM records").fetchone()[0] == 1, point
            assert opened.sealed == (point not in BEFORE_THE_COMMIT), point
            assert BlobStore.of(opened.db).read(blob) == notes, point
        finally:
            opened.close()
        if point not in BEFORE_THE_COMMIT:
            assert files_holding(home, CANARY) == [], point
            assert files_holding(home, BODY_CANARY.decode()) == [], point
        assert not (home / ".seal-ready").exists() and not (home / ".seal-old").exists()
