"""``rhizome demo --once``: three hubs tell the whole story, then leave nothing behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

RHIZOME = Path(sys.executable).parent / "rhizome"


def run_demo(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    env["TMPDIR"] = str(scratch)
    done = subprocess.run(
        [str(RHIZOME), "demo", "--once", "--port", "0"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    return done, scratch


def test_the_story_runs_and_cleans_up(tmp_path: Path, samples: Path) -> None:
    done, scratch = run_demo(tmp_path)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Traceback" not in out + done.stderr
    assert len(re.findall(r"https://127\.0\.0\.1:\d+/", out)) == 3
    loaded = re.search(r"Nairobi's archive: (\d+) sample lessons", out)
    assert loaded and int(loaded.group(1)) == len(list(samples.glob("*.md")))
    # Consent and approval: denied before the curator approves, allowed after, then shared.
    assert "To Manila: DENY — needs 1 curator approval, has 0" in out
    assert re.search(r"approves it\. To Manila: ALLOW", out)
    assert "Manila holds it." in out
    # One peer only, a reshare along the chain, a lesson that stays home.
    assert "Manila holds it; São Paulo does not hold it." in out
    assert "Manila holds it, São Paulo holds it" in out
    assert "consent basis is 'none'" in out
    # The revocation: two signed receipts back at the origin, no copy left anywhere.
    assert "Manila Hub: purged, signed receipt (direct)" in out
    assert "São Paulo Hub: purged, signed receipt (via a peer)" in out
    assert out.rstrip().endswith("everything is deleted.")
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
