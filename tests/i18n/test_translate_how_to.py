"""The commands of docs/how-to/translate-rhizome.md work as written, on a copy of the
catalogs: extract, update (a new string arrives empty), init of a new language, compile
(the .mo a node reads then has the translation)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
HOW_TO = ROOT / "docs" / "how-to" / "translate-rhizome.md"
PYBABEL = Path(sys.executable).parent / "pybabel"


def documented_commands() -> list[str]:
    """The ``$ pybabel ...`` lines of the how-to, in order."""
    text = HOW_TO.read_text(encoding="utf-8")
    return re.findall(r"^\s*\$ (pybabel .+)$", text, flags=re.MULTILINE)


def run(command: str, cwd: Path) -> str:
    args = command.split()
    args[0] = str(PYBABEL)
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def checkout_copy(tmp_path: Path) -> Path:
    """What the commands read and write: babel.cfg, the code and templates, the catalogs."""
    copy = tmp_path / "checkout"
    copy.mkdir()
    shutil.copy(ROOT / "babel.cfg", copy / "babel.cfg")
    for package in ("crypto", "archive", "governance", "federation", "node"):
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / package, copy / package, ignore=skip)
    return copy


def test_the_how_to_shows_extract_update_init_and_compile() -> None:
    verbs = [command.split()[1] for command in documented_commands()]
    assert verbs == ["extract", "update", "compile", "extract", "init"]


def test_the_documented_commands_update_compile_and_add_a_language(tmp_path: Path) -> None:
    copy = checkout_copy(tmp_path)
    # A new string in the code, as a developer adds one.
    page = copy / "node" / "web" / "pages" / "settings.py"
    page.write_text(
        page.read_text(encoding="utf-8") + '\n\nNEW = _("A string nobody translated yet")\n',
        encoding="utf-8",
    )
    extract, update, compile_, _extract_again, init = documented_commands()
    run(extract, copy)
    assert "A string nobody translated yet" in (copy / "node/locale/rhizome.pot").read_text()
    run(update, copy)
    swahili = copy / "node/locale/sw/LC_MESSAGES/rhizome.po"
    with open(swahili, "rb") as po:
        catalog = read_po(po, locale="sw")
    new = catalog["A string nobody translated yet"]
    assert new is not None and new.string == "" and not new.fuzzy
    assert catalog["Search"].string == "Tafuta"  # what was translated stays
    # The translator fills it in, then compiles.
    new.string = "Mfuatano ambao bado haujatafsiriwa"
    with open(swahili, "wb") as po:
        write_po(po, catalog, width=0)
    run(compile_, copy)
    compiled = gettext.translation("rhizome", str(copy / "node/locale"), languages=["sw"])
    translated = compiled.gettext("A string nobody translated yet")
    assert translated == "Mfuatano ambao bado haujatafsiriwa"
    # A new language: its catalog, with the plural rule of its language.
    run(init, copy)
    with open(copy / "node/locale/am/LC_MESSAGES/rhizome.po", "rb") as po:
        amharic = read_po(po, locale="am")
    assert amharic.num_plurals == 2
    assert amharic["Search"] is not None and amharic["Search"].string == ""
