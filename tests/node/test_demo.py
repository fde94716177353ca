"""``rhizome demo --once``: a throwaway node with every sample lesson, gone afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.node.conftest import Invoke, assert_clean_exit

RHIZOME = Path(sys.executable).parent / "rhizome"


def sample_count(samples: Path) -> int:
    return len(list(samples.glob("*.md")))


def test_demo_once_as_a_process(tmp_path: Path, samples: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    env["TMPDIR"] = str(scratch)
    done = subprocess.run(
        [str(RHIZOME), "demo", "--once"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    loaded = re.search(r"(\d+) sample lessons loaded", done.stdout)
    assert loaded, done.stdout
    assert int(loaded.group(1)) == sample_count(samples) == 12
    assert "rejected" not in done.stdout
    assert str(scratch) in done.stdout  # the demo really used the temp folder
    assert list(scratch.iterdir()) == []


def test_demo_once_in_process_cleans_up(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = invoke(None, "demo", "--once")
    assert_clean_exit(result)
    assert "12 sample lessons loaded" in result.stdout
    assert list(scratch.iterdir()) == []


def test_node_demo_imports_on_its_own() -> None:
    # tests/conftest.py imports node.demo first; that must work in a fresh interpreter.
    done = subprocess.run(
        [sys.executable, "-c", "import node.demo; print(node.demo.samples_folder())"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("samples")
