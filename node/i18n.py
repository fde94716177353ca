"""The language people read: gettext catalogs (Babel) for the web pages, the CLI and errors.

One locale is current at a time, in a context variable: the web layer sets it per request
(:func:`node.web.language.language_layer`), the CLI once per command. Code marks a sentence
with ``_("...")`` where it is shown, and a sentence kept in a constant with ``N_("...")``
(marked for extraction, translated later with ``_(CONSTANT)``). Templates use jinja2's i18n
extension (``{% trans %}`` and ``_()``), installed by :func:`install_in_jinja`.

The catalogs are ``node/locale/<lang>/LC_MESSAGES/rhizome.po`` and their compiled ``.mo``
beside them (both committed: a node runs from a wheel without Babel's command line);
``tests/test_translations.py`` fails when a catalog misses a string, keeps a fuzzy or empty
one, changes a placeholder, or when a ``.mo`` is older than its ``.po``. How to add a
language: docs/how-to/translate-rhizome.md.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.support import NullTranslations, Translations

DOMAIN = "rhizome"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
# The languages a hub can speak, in the order the language menu lists them.
LANGUAGES = ("en", "es", "fr", "pt", "sw", "ar")
# What each language calls itself, for the language menu (never translated).
NATIVE_NAMES = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "pt": "Português",
    "sw": "Kiswahili",
    "ar": "العربية",
}
MAX_ACCEPT_LANGUAGE = 1_000  # a longer header is someone's junk: the default language then

_current: ContextVar[str] = ContextVar("rhizome_locale", default=DEFAULT)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs without translating it yet (for constants)."""
    return message


@functools.cache
def catalog(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (English, the source language, needs none)."""
    if language not in LANGUAGES or language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    """``message`` in the current language (itself when the catalog lacks it)."""
    return catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return catalog(_current.get()).ngettext(singular, plural, count)


_ = gettext


def set_language(language: str) -> None:
    """Make ``language`` current for the rest of this context (a request, a command)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


@contextlib.contextmanager
def language(code: str) -> Iterator[None]:
    """Run a block in ``code`` (tests, a page rendered for someone else)."""
    token = _current.set(code if code in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def direction(code: str) -> str:
    """``rtl`` or ``ltr``: how text in language ``code`` runs (Babel's CLDR data)."""
    try:
        order = Locale.parse(code.replace("-", "_")).character_order
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def from_accept_language(header: str | None) -> str | None:
    """The hub language a browser prefers most (``Accept-Language``), or None."""
    if not header or len(header) > MAX_ACCEPT_LANGUAGE:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().replace("_", "-")))
    preferred = [tag for _w, _p, tag in sorted(ranked)]
    return negotiate_locale(preferred, list(LANGUAGES), sep="-")


def from_environment() -> str | None:
    """The CLI's language from ``RHIZOME_LANGUAGE``, else the usual locale variables."""
    for name in ("RHIZOME_LANGUAGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        for item in value.split(":"):
            code = item.split(".")[0].split("@")[0].replace("_", "-")
            if code and code not in ("C", "POSIX"):
                found = negotiate_locale([code], list(LANGUAGES), sep="-")
                if found:
                    return found
    return None


def remedy_text(docstring: str | None) -> str:
    """An error class's docstring as one catalog message: its paragraphs, each on one line."""
    if not docstring:
        return ""
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(" ".join(part.split()) for part in paragraphs if part.strip())


def remedy(error: BaseException) -> str:
    """What the person who sees ``error`` can do, in the current language: the docstring of
    its class (or of the nearest ancestor that has one), translated."""
    for cls in type(error).__mro__:
        text = remedy_text(cls.__dict__.get("__doc__"))
        if text:
            return gettext(text)
    return ""


def error_text(error: BaseException) -> str:
    """An error for a person, on one line: in English its own line; in another language the
    translated remedy first, then the exact line as a value of a translated sentence (the node
    layer words that line in the current language; lower layers, which cannot import this
    module, give their names, values and English words as written)."""
    if _current.get() == DEFAULT:
        return str(error)
    explained = remedy(error).replace(chr(10) * 2, " ")  # one line, as in English
    if not explained:
        return detail_text(error)
    return gettext("{remedy} (details: {detail})").format(
        remedy=explained, detail=detail_text(error)
    )


def detail_text(error: BaseException) -> str:
    """The error's own line in the current language when it was made with
    ``RhizomeError.worded`` (its template translated, its values as they are), else as
    written."""
    template, values = getattr(error, "template", None), getattr(error, "values", None)
    if template is None or values is None:
        return str(error)
    return gettext(template).format(**values)


def install_in_jinja(environment: jinja2.Environment) -> None:
    """jinja2's i18n extension, answering in the current language of each render."""
    environment.add_extension("jinja2.ext.i18n")
    # {% trans %} blocks span lines in the templates: one space for each run of blanks, as
    # pybabel extracts them (babel.cfg: trimmed = true).
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
    environment.filters["text_direction"] = text_direction
    environment.filters["language_name"] = language_name
    environment.tests["same_language"] = same_language


def text_direction(tag: str | None) -> str:
    """``dir`` for text in language ``tag``: ``rtl``, ``ltr``, or ``auto`` (let the browser
    look at the text) when the tag is missing or unknown."""
    if not tag:
        return "auto"
    try:
        order = Locale.parse(tag.replace("-", "_")).character_order
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        return "auto"
    return "rtl" if order == "right-to-left" else "ltr"


def language_name(tag: str | None) -> str:
    """A lesson language's name in the reader's language ("árabe" for ``ar`` to a Spanish
    reader), or the tag itself when Babel does not know it."""
    if not tag:
        return ""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(_current.get())
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        return tag
    return name or tag


def same_language(tag: str | None, other: str | None) -> bool:
    """Whether two language tags name the same language (``pt-BR`` and ``pt`` do)."""
    if not tag or not other:
        return False
    return tag.split("-")[0].lower() == other.split("-")[0].lower()
