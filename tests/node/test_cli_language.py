"""The CLI speaks the language of its environment (RHIZOME_LANGUAGE, LANGUAGE, LANG), and
``rhizome member language`` stores the language the web pages speak to a member."""

from __future__ import annotations

from pathlib import Path

from governance.member_language import member_language
from node.i18n import current_language
from node.node import Node
from tests.node.conftest import Invoke, assert_clean_exit, assert_one_line_error


def test_a_member_message_in_spanish(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "member", "add", "amina", "--role", "author",
                    env={"RHIZOME_LANGUAGE": "es"})  # fmt: skip
    assert_clean_exit(result)
    assert result.stdout.strip() == "Añadido amina (author)."
    assert current_language() == "en"  # the command's language ended with it


def test_lang_picks_the_language_when_rhizome_language_is_unset(
    invoke: Invoke, home: Path
) -> None:
    result = invoke(home, "member", "remove", "nobody",
                    env={"RHIZOME_LANGUAGE": None, "LANGUAGE": None, "LC_ALL": None,
                         "LC_MESSAGES": None, "LANG": "sw_KE.UTF-8"})  # fmt: skip
    # Swahili, "Error:" included: the remedy of the error's class first, then its own line.
    assert result.exit_code == 1 and "Traceback" not in result.output
    [error] = result.stderr.splitlines()
    assert error.startswith("Hitilafu: ") and "nobody" in error
    assert "Jina la mwanachama halijulikani" in error


def test_english_errors_stay_as_they_were(invoke: Invoke, home: Path) -> None:
    result = invoke(home, "member", "remove", "nobody", env={"RHIZOME_LANGUAGE": "en"})
    assert_one_line_error(result, "nobody")
    assert "Jina" not in result.output and "A member name is unknown" not in result.output


def test_member_language_is_stored_shown_and_cleared(
    invoke: Invoke, home: Path, node: Node
) -> None:
    assert_clean_exit(invoke(home, "member", "add", "amina", "--role", "author"))
    shown = invoke(home, "member", "language", "amina")
    assert shown.stdout.strip() == "browser"
    chosen = invoke(home, "member", "language", "amina", "ar")
    assert_clean_exit(chosen)
    assert "العربية (ar)" in chosen.stdout
    assert member_language(node.db, "amina") == "ar"
    assert invoke(home, "member", "language", "amina").stdout.strip() == "ar"
    assert_clean_exit(invoke(home, "member", "language", "amina", "browser"))
    assert member_language(node.db, "amina") is None


def test_a_language_the_hub_does_not_speak_is_refused(
    invoke: Invoke, home: Path, node: Node
) -> None:
    assert_clean_exit(invoke(home, "member", "add", "amina", "--role", "author"))
    for bad in ("de", "xx-YY", "'; DROP TABLE members; --"):
        result = invoke(home, "member", "language", "amina", bad)
        assert_one_line_error(result, "not a language of this hub")
    assert member_language(node.db, "amina") is None


def test_only_admins_choose_for_someone_else(invoke: Invoke, home: Path, node: Node) -> None:
    assert_clean_exit(invoke(home, "member", "add", "amina", "--role", "author"))
    assert_clean_exit(invoke(home, "member", "add", "chidi", "--role", "author"))
    result = invoke(home, "member", "language", "chidi", "sw", before=["--as", "amina"])
    assert result.exit_code != 0
    assert member_language(node.db, "chidi") is None
    assert_clean_exit(invoke(home, "member", "language", "amina", "sw", before=["--as", "amina"]))
    assert member_language(node.db, "amina") == "sw"
