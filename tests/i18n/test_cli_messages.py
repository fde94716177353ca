"""The CLI's human output speaks the environment's language: every line ``init``, ``status``,
``doctor``, ``lesson list`` and ``show``, ``serve``, ``seal`` and ``wipe`` print in Spanish or
Arabic differs from the English one, once the values (ids, paths, names, numbers,
fingerprints, the lesson's own text) are set aside; ``--json`` stays English.

Each command runs twice in-process (click's CliRunner) on the same state, once in English and
once in the other language, and the two outputs are compared line by line. The static guard
(``test_cli_prints_only_translated_text``) catches an English sentence added later to a
command this test does not run.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from node.cli import main
from node.cli.serve_command import serving_lines
from node.i18n import language
from node.node import Node
from node.wording import plural
from tests.conftest import write_lesson

LANGUAGES = ("es", "ar")
NAME, REGION = "Nairobi Hub", "East Africa"
TITLE, BODY = "Water plan", "Bring water."
PASSPHRASE = "quarry thistle harbor velvet anchor pylon"
# Lines for programs, never translated: lesson list's tab-separated header when piped (field
# names, like --json's keys), and log lines (one format for every language, to search).
MACHINE_LINE = re.compile(
    r"^id\ttitle\tkind\tlang\tcreated\tsensitivity$|^\d{4}-\d\d-\d\dT\S+ [A-Z]+ "
)
# Values, not words: paths and URLs, ids and keys (hex, base32 groups), fingerprints, times,
# numbers; and what people type back as written: `commands`, --options, [config] sections,
# file names, VARIABLES.
VALUE = re.compile(
    r"`+[^`]+`+|--[a-z-]+|\[[a-z_]+\]|\S+\.(?:toml|md|key)\b|[a-z]+://\S+|/[^\s:;,)]+"
    r"|\b[0-9a-f]{8,64}\b|\b[A-Z2-7]{7}(?:-[A-Z2-7]{7})+\b|(?:[0-9A-F]{2}:){8,}[0-9A-F]{2}"
    r"|\b[A-Z][A-Z_]{3,}\b|\d{4}-\d\d-\d\d(?:T[\d:]+Z)?|\d+(?:\.\d+)?"
)
# Codes people type back into commands (kinds, sensitivities, consent bases and scopes).
CODE = re.compile(r"\b(?:checklist|low|local|none|en)\b")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# Words spelt the same in English and a translation (names of things, and Spanish "Error").
# ("hub", "terminal" and "ids" are Spanish, French and Portuguese words too.)
SAME_IN_BOTH = frozenset(
    {"Rhizome", "PID", "TLS", "SHA", "URL", "NTP", "Ctrl", "Error", "hub", "terminal", "ids"}
)
DIGITS = re.compile(r"\d+")


def run(home: Path, lang: str, *args: str) -> Result:
    env = {"RHIZOME_LANGUAGE": lang, "RHIZOME_PASSPHRASE": None, "COLUMNS": "100"}
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env)


def words_of(line: str, values: tuple[str, ...]) -> str:
    """``line`` without its values: what a translation must change."""
    for value in values:
        line = line.replace(value, "")
    return CODE.sub("", VALUE.sub("", line)).strip()


def english_lines(english: str, translated: str, values: tuple[str, ...]) -> list[str]:
    """Lines of ``translated`` that still hold words of the English output (a label, a
    sentence, a word left in English), values set aside."""
    vocabulary = {
        word
        for line in english.splitlines()
        if not MACHINE_LINE.match(line)
        for word in ENGLISH_WORD.findall(words_of(line, values))
    } - SAME_IN_BOTH
    return [
        line
        for line in translated.splitlines()
        if not MACHINE_LINE.match(line)
        and vocabulary.intersection(ENGLISH_WORD.findall(words_of(line, values)))
    ]


def test_the_comparison_finds_an_english_line() -> None:
    """The check is not vacuous: an untranslated line is found, values do not hide it."""
    english = "Created node Hub in /tmp/a\nNode id:\nABCDEFG-HIJKLMN\nServed:  no (start it)\n"
    partly = "Nodo Hub creado en /tmp/b\nNode id:\nQRSTUVW-XYZ2345\nServed:  no (inícielo)\n"
    assert english_lines(english, partly, ("Hub",)) == ["Node id:", "Served:  no (inícielo)"]
    whole = "Nodo Hub creado en /tmp/b\nId del nodo:\nEn servicio:  no (inícielo)\n"
    assert english_lines(english, whole, ("Hub",)) == []


@pytest.fixture(scope="module")
def base_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A home with one lesson (made in English), and that lesson's id."""
    folder = tmp_path_factory.mktemp("cli-language")
    home = folder / "home"
    made = run(home, "en", "init", "--name", NAME, "--region", REGION, "--no-passphrase")
    assert made.exit_code == 0, made.output
    lesson = write_lesson(folder, "water.md", {"title": TITLE, "kind": "checklist"}, BODY + "\n")
    added = run(home, "en", "lesson", "add", str(lesson))
    assert added.exit_code == 0, added.output
    yield home, added.stdout.strip().splitlines()[-1]


def values_of(home: Path, record_id: str) -> tuple[str, ...]:
    node = Node(home)
    try:
        return (str(home), NAME, REGION, TITLE, BODY, record_id, node.node_id, "admin")
    finally:
        node.close()


def assert_translated(english: Result, translated: Result, values: tuple[str, ...]) -> None:
    assert english.exit_code == translated.exit_code, translated.output
    assert translated.output.strip(), "the command printed nothing"
    left = english_lines(english.output, translated.output, values)
    assert left == [], f"still English: {left}"


READ_ONLY = (
    ("status",),
    ("doctor", "--offline"),
    ("lesson", "list"),
    ("lesson", "show", "{id}"),
    ("lesson", "show", "ffff0000"),  # an error: a translated remedy, then its details
    ("wipe",),  # refused without a terminal: the home stays
)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_read_only_commands_speak_the_language(
    base_home: tuple[Path, str], lang: str, command: tuple[str, ...]
) -> None:
    home, record_id = base_home
    args = [part.format(id=record_id[:12]) for part in command]
    values = values_of(home, record_id)
    assert_translated(run(home, "en", *args), run(home, lang, *args), values)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_init_speaks_the_language(tmp_path: Path, lang: str) -> None:
    init = ("init", "--name", NAME, "--region", REGION, "--no-passphrase")
    made = {code: run(tmp_path / code, code, *init) for code in ("en", lang)}
    values = (str(tmp_path / "en"), str(tmp_path / lang), NAME, REGION)
    assert_translated(made["en"], made[lang], values)
    assert made[lang].stdout.splitlines()[-1] == Node(tmp_path / lang).node_id  # still last


@pytest.mark.parametrize("lang", LANGUAGES)
def test_seal_and_wipe_speak_the_language(
    base_home: tuple[Path, str], tmp_path: Path, lang: str
) -> None:
    home, record_id = base_home
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE, encoding="utf-8")
    secret.chmod(0o600)
    copies = {code: tmp_path / code for code in ("en", lang)}
    for copy in copies.values():
        shutil.copytree(home, copy)
    values = (*values_of(home, record_id), *(str(copy) for copy in copies.values()))
    sealed = {code: run(copy, code, "seal", "--passphrase-file", str(secret))
              for code, copy in copies.items()}  # fmt: skip
    assert_translated(sealed["en"], sealed[lang], values)
    wiped = {code: run(copy, code, "wipe", "--yes-destroy-this-node")
             for code, copy in copies.items()}  # fmt: skip
    assert_translated(wiped["en"], wiped[lang], values)
    assert not any(copy.exists() for copy in copies.values())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_serve_speaks_the_language(base_home: tuple[Path, str], tmp_path: Path, lang: str) -> None:
    """serve on a port already taken: the unsealed warning, then the error, both translated;
    the lines it prints once it listens, from the same function serve calls."""
    home, record_id = base_home
    values = values_of(home, record_id)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        served = {code: run(home, code, "serve", "--port", port) for code in ("en", lang)}
    assert "Error: " in served["en"].output
    assert_translated(served["en"], served[lang], values)
    node = Node(home)
    try:
        lines = {}
        for code in ("en", lang):
            with language(code):
                lines[code] = "\n".join(serving_lines(node, "https://127.0.0.1:8470/", "AB:CD"))
    finally:
        node.close()
    assert english_lines(lines["en"], lines[lang], values) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_json_stays_english(base_home: tuple[Path, str], lang: str) -> None:
    home, _record_id = base_home
    for command in (("status", "--json"), ("doctor", "--offline", "--json")):
        english, translated = run(home, "en", *command), run(home, lang, *command)
        # the same JSON but for the free disk space, which moves between the two runs
        assert DIGITS.sub("0", translated.stdout) == DIGITS.sub("0", english.stdout)
    status = json.loads(run(home, lang, "status", "--json").stdout)
    assert any("not sealed" in warning for warning in status["warnings"])


def test_counted_nouns_take_each_language_s_plural_forms() -> None:
    """node.wording.plural goes through ngettext: Arabic's six forms, Spanish's "1 … / 2 …s"."""
    with language("ar"):
        forms = [plural(count, "attachment") for count in (0, 1, 2, 3, 11, 100)]
    assert (
        len(
            set(
                form.replace(str(n), "")
                for form, n in zip(forms, (0, 1, 2, 3, 11, 100), strict=True)
            )
        )
        >= 5
    )
    with language("es"):
        assert plural(1, "withdrawal") == "1 retirada"
        assert plural(2, "withdrawal") == "2 retiradas"
    with language("en"):
        assert plural(1, "log entry") == "1 log entry"
        assert plural(0, "log entry") == "0 log entries"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_error_s_own_line_is_translated_too(
    base_home: tuple[Path, str], tmp_path: Path, lang: str
) -> None:
    """A config.toml with an unknown section: the remedy and the exact line (worded with
    RhizomeError.worded: path and section as values) both in the language."""
    home, record_id = base_home
    broken = tmp_path / "broken"
    shutil.copytree(home, broken)
    with open(broken / "config.toml", "a", encoding="utf-8") as config:
        config.write("\n[bogus]\nanswer = 42\n")
    english, translated = run(broken, "en", "status"), run(broken, lang, "status")
    assert english.exit_code == 1 and "unknown section [bogus]" in english.output
    known = re.findall(r"\(known: ([^)]*)\)", english.output)  # section names: codes
    values = (*values_of(home, record_id), str(broken), "bogus", *known)
    assert_translated(english, translated, values)
