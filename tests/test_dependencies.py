"""Every module our packages import is the standard library's, our own, or a dependency
declared in pyproject.toml: an undeclared one works here by luck (another package pulled it
in) and breaks an operator's clean install."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("node", "federation", "governance", "archive", "crypto")


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = (re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0] for spec in project["dependencies"])
    return {_normalized(name) for name in names}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported() -> dict[str, str]:
    """Top-level module name -> the first file that imports it (absolute imports only)."""
    found: dict[str, str] = {}
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_import_is_stdlib_ours_or_declared() -> None:
    declared = _declared()
    distributions = packages_distributions()
    undeclared = []
    for module, where in sorted(_imported().items()):
        if module in sys.stdlib_module_names or module in OURS or module == "__future__":
            continue
        owners = {_normalized(name) for name in distributions.get(module, [])}
        if not owners & declared:
            undeclared.append(f"{module} ({where}; from {sorted(owners) or 'nothing installed'})")
    assert undeclared == [], "imported but not declared in pyproject.toml: " + ", ".join(undeclared)


def test_the_check_sees_a_missing_declaration() -> None:
    """The check itself can fail: http-sf is installed (through http-message-signatures)
    but is not ours to import, and msgpack would be caught if it were not declared."""
    distributions = packages_distributions()
    assert {_normalized(name) for name in distributions["http_sf"]} == {"http-sf"}
    assert "http-sf" not in _declared()
    assert "msgpack" in _declared() and "msgpack" in _imported()
