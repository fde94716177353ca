"""Static guard: the CLI prints no English sentence that bypasses the catalogs.

Every call in ``node/cli`` that shows text to a person (``console.print``, ``click.echo``,
``click.prompt``, ``getpass``, ``ClickException`` and the other errors it raises) must pass
a translated string (``_("…")``, ``ngettext(…)``, a variable) or only values and layout
(``f"  {fingerprint}"``), never a literal with words in it. A ``_()`` call inside an
f-string is refused too: ``pybabel extract`` does not look inside f-strings (Python 3.11), so
its message would never reach the catalogs.

``test_cli_messages.py`` runs the main commands in Spanish and Arabic; this guard covers every
command, including one added later.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "node" / "cli"
SHOWN_BY = {"print", "echo", "secho", "prompt", "confirm", "getpass", "BadParameter"}
TRANSLATED = {"_", "gettext", "ngettext", "N_"}
# Python's own errors mean a bug in Rhizome (a traceback, for a developer): not for the catalogs.
BUGS = {"TypeError", "ValueError", "AssertionError", "RuntimeError", "KeyError", "LookupError"}
# Rich markup ([bold], [/]) is layout, not words.
MARKUP = re.compile(r"\[/?[a-z ]*\]")
WORD = re.compile(r"[A-Za-z]{2,}")
# Modules whose messages are still English, with how many calls; this may only shrink.
STILL_ENGLISH: dict[str, int] = {}


def has_words(node: ast.expr) -> bool:
    """Whether ``node`` is a literal (or an f-string, or a sum of them) holding words."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return WORD.search(MARKUP.sub("", node.value)) is not None
    if isinstance(node, ast.JoinedStr):
        return any(has_words(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return has_words(node.left) or has_words(node.right)
    return False


def name_of(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def shows_text(call: ast.Call) -> bool:
    name = name_of(call)
    return name in SHOWN_BY or (
        name.endswith(("Error", "Exception", "Refused")) and name not in BUGS
    )


def offences(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each English literal shown, and each ``_()`` hidden in an f-string."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and shows_text(node):
            shown = [*node.args[:1], *(kw.value for kw in node.keywords if kw.arg == "message")]
            for argument in shown:
                if has_words(argument):
                    yield node.lineno, ast.unparse(argument)[:80]
        if isinstance(node, ast.JoinedStr):
            for part in ast.walk(node):
                if (
                    isinstance(part, ast.Call)
                    and name_of(part) in TRANSLATED
                    and any(isinstance(arg, ast.Constant) for arg in part.args)
                ):
                    yield part.lineno, "inside an f-string: " + ast.unparse(part)[:60]


def test_the_guard_finds_english_and_accepts_translations() -> None:
    english = (
        'console.print("Created the node.")\n'
        'click.echo(f"Recovery code: {code}")\n'
        'raise KeyFileError(f"{path}: empty")\n'
        'raise click.ClickException("wipe needs a terminal")\n'
        "console.print(f\"  {_('label')} {value}\")\n"
    )
    assert [line for line, _text in offences(english)] == [1, 2, 3, 4, 5]
    translated = (
        'console.print(_("Created the node."), markup=False)\n'
        'click.echo(_("Recovery code: {code}").format(code=code))\n'
        'raise KeyFileError.worded(N_("{path}: empty"), path=path)\n'
        'console.print(f"  {fingerprint}", emoji=False)\n'
        'console.print(f"[bold]{escape(title)}[/]")\n'
        "click.echo(node_id)\n"
    )
    assert list(offences(translated)) == []


def test_cli_prints_only_translated_text() -> None:
    found: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(CLI.glob("*.py")):
        listed = list(offences(path.read_text(encoding="utf-8")))
        if listed or path.name in STILL_ENGLISH:
            found[path.name] = listed
    counts = {name: len(listed) for name, listed in found.items()}
    assert counts == STILL_ENGLISH, (
        "English text shown by the CLI (mark it with _() and add its translations; "
        f"see docs/explanation/translations.md): {found}"
    )
