"""The files an operator installs a hub with: the systemd unit in docs/deploy/ (checked by
``systemd-analyze verify`` and for the keys it must have) and the Containerfile."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

from node.passphrase import CREDENTIAL

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "docs" / "deploy" / "rhizome.service"
CONTAINERFILE = ROOT / "Containerfile"
HOW_TO = ROOT / "docs" / "how-to" / "install-and-run-a-hub.md"
SHIPPED_RHIZOME = "/opt/rhizome/bin/rhizome"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_has_what_a_hub_needs() -> None:
    parsed = unit()
    service = parsed["Service"]
    assert parsed["Unit"]["Description"]
    assert "network-online.target" in parsed["Unit"]["After"]
    assert service["ExecStart"].startswith(SHIPPED_RHIZOME + " serve")
    assert service["User"] not in ("", "root") and service["Group"] not in ("", "root")
    home = service["Environment"].removeprefix("RHIZOME_HOME=")
    assert home.startswith(service["ReadWritePaths"] + "/")
    assert service["LoadCredentialEncrypted"].startswith(f"{CREDENTIAL}:")
    assert "RHIZOME_PASSPHRASE" not in UNIT.read_text()  # never in the environment
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "on-failure"
    assert service["UMask"] == "0077" and service["ProtectSystem"] == "strict"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify`` prints nothing for a good unit (it exits 0 even for unknown
    keys, so its output is what counts). Where systemd is not installed, the parse above is
    the check."""
    analyze = shutil.which("systemd-analyze")
    copy = tmp_path / "rhizome.service"
    # The shipped path does not exist here: point it at this venv's rhizome.
    here = str(Path(sys.executable).parent / "rhizome")
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(SHIPPED_RHIZOME, here))
    if analyze is None:
        assert unit().sections() == ["Unit", "Service", "Install"]
        return
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stderr


def test_systemd_analyze_would_notice_a_mistake(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # nothing to calibrate: the parse test stands alone
    broken = tmp_path / "rhizome.service"
    broken.write_text(UNIT.read_text(encoding="utf-8").replace("Restart=", "Restat="))
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert "Unknown key 'Restat'" in done.stderr


def test_the_containerfile_installs_the_package_and_runs_unprivileged() -> None:
    lines = [line.strip() for line in CONTAINERFILE.read_text().splitlines()]
    instructions = [line.split()[0] for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM"
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    for source in copied:
        assert (ROOT / source).exists(), f"Containerfile copies {source}, which is missing"
    assert {"archive", "crypto", "federation", "governance", "node"} <= copied
    assert any(line.startswith("RUN pip install") and "/src" in line for line in lines)
    assert "USER rhizome" in lines
    assert lines.index("USER rhizome") < lines.index(next(x for x in lines if x.startswith("CMD")))
    assert any("/healthz" in line for line in lines)
    assert 'ENTRYPOINT ["rhizome"]' in lines


def test_the_how_to_shows_the_installs_it_promises() -> None:
    text = HOW_TO.read_text(encoding="utf-8")
    for needle in ("pipx install .", "pip install .", "docs/deploy/rhizome.service",
                   "Containerfile", "systemd-creds encrypt", "_RHIZOME_COMPLETE"):  # fmt: skip
        assert needle in text, needle


def test_shell_completion_works_as_documented() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "rhizome")],
        env={**os.environ, "_RHIZOME_COMPLETE": "bash_complete", "COMP_WORDS": "rhizome st",
             "COMP_CWORD": "1"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "plain,status" in done.stdout.splitlines()
