"""The unit that unlocks a sealed home with a key on removable media (docs/deploy/): it
parses, systemd accepts it, it never puts the passphrase in the environment, and the option
it passes exists in ``rhizome serve``."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from node.cli import main

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "docs" / "deploy" / "rhizome-usb-key.service"
SHIPPED_RHIZOME = "/opt/rhizome/bin/rhizome"


def parsed() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_usb_key_unit_waits_for_its_medium_and_keeps_the_passphrase_out_of_the_env() -> None:
    unit = parsed()
    service = unit["Service"]
    mount = unit["Unit"]["RequiresMountsFor"]
    command = service["ExecStart"].split()
    assert command[:2] == [SHIPPED_RHIZOME, "serve"]
    key = command[command.index("--passphrase-media") + 1]
    assert key.startswith(mount + "/")
    assert mount in service["ReadOnlyPaths"].split()
    assert "RHIZOME_PASSPHRASE" not in UNIT.read_text(encoding="utf-8")  # never in the env
    assert "PASSPHRASE" not in service.get("Environment", "").upper()
    assert service["User"] not in ("", "root") and service["UMask"] == "0077"
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "--passphrase-media" in help_text and "--passphrase-file" in help_text


def test_systemd_accepts_the_usb_key_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify`` prints nothing for a good unit; where systemd is missing,
    the parse is the check (as for docs/deploy/rhizome.service)."""
    analyze = shutil.which("systemd-analyze")
    copy = tmp_path / "rhizome-usb-key.service"
    here = str(Path(sys.executable).parent / "rhizome")
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(SHIPPED_RHIZOME, here))
    if analyze is None:
        assert parsed().sections() == ["Unit", "Service", "Install"]
        return
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
