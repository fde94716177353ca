"""Every catalog is complete: each string the code and templates mark (extracted as
``pybabel extract`` does, through babel.cfg) has a translation in every shipped language,
neither fuzzy nor empty, with the same placeholders; each .mo is the compiled .po."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from node.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+(?::[^}]*)?\}")


def extracted() -> dict[str | tuple[str, ...], int]:
    """msgid (or (singular, plural)) → line, as pybabel extract finds them."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str | tuple[str, ...], int] = {}
    for _filename, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.setdefault(message if isinstance(message, str) else tuple(message), line)
    return found


EXTRACTED = extracted()


def catalog(language: str) -> Catalog:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        return read_po(po, locale=language)


def key(message: Message) -> str | tuple[str, ...]:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def test_the_code_marks_strings_for_translation() -> None:
    assert len(EXTRACTED) > 400
    assert "Search" in EXTRACTED  # a template
    assert "Your language is saved." in EXTRACTED  # Python code
    remedies = [m for m in EXTRACTED if isinstance(m, str)]
    assert any(m.startswith("The passphrase does not open") for m in remedies)


def catalog_problems(shipped: Catalog) -> list[str]:
    """What an extracted string lacks in ``shipped``: missing, fuzzy or empty."""
    messages = {key(m): m for m in shipped if m.id}
    problems = []
    for msgid in EXTRACTED:
        message = messages.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not message.string or (
            not isinstance(message.string, str) and not all(message.string)
        ):
            problems.append(f"empty: {msgid!r}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_extracted_string_is_translated(language: str) -> None:
    problems = catalog_problems(catalog(language))
    assert problems == [], f"{language}: {len(problems)} strings need work, e.g. {problems[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    wrong = []
    for message in catalog(language):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, str):
            pairs = [(message.id, message.string)]
        else:
            pairs = [(message.id[1], form) for form in message.string]
        for source, translated in pairs:
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translated)):
                wrong.append((source, translated))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_po_file(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language), use_fuzzy=False)
    shipped = (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes()
    assert compiled.getvalue() == shipped, (
        f"run: pybabel compile -d node/locale -D rhizome -l {language}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_follow_the_language(language: str) -> None:
    shipped = catalog(language)
    assert shipped.num_plurals == Catalog(locale=language).num_plurals
    for message in shipped:
        if message.id and not isinstance(message.id, str):
            assert len(message.string) == shipped.num_plurals, message.id


def test_a_missing_fuzzy_or_empty_string_is_caught() -> None:
    """The completeness check is not vacuous: each kind of gap is named."""
    complete = Catalog(locale="es")
    for msgid in EXTRACTED:
        complete.add(msgid, "x" if isinstance(msgid, str) else ("x", "x", "x"))
    assert catalog_problems(complete) == []
    first, second, third = list(EXTRACTED)[:3]
    del complete[first]
    complete[second].flags.add("fuzzy")
    complete[third].string = ""
    assert catalog_problems(complete) == [
        f"missing: {first!r}", f"fuzzy: {second!r}", f"empty: {third!r}"
    ]


def test_the_package_ships_the_catalogs() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"locale/*/LC_MESSAGES/rhizome.mo"' in pyproject
    for language in LANGUAGES:
        assert (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
