"""No English words hide in the templates' expressions: a string literal a page shows
(``{{ "Allows:" if … }}``) must go through ``_()``, or pybabel never extracts it and every
reader sees English. Literals that are not words people read (CSS classes, "✓", "Z") pass."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "node" / "templates"
# A quoted literal inside {{ … }} that starts with a capital and a small letter, or is
# small words with a space ("out to", "node "), not the argument of _() / gettext().
UNMARKED = re.compile(
    r"\{\{(?:(?!\}\}).)*?(?<!_\()(?<!gettext\()([\"'])"
    r"([A-Z][a-z][^\"']*|[a-z]{2,} [^\"']*)\1",
    re.S,
)


# ngettext("active peer", "active peers", n): both forms are marked.
PLURAL_CALL = re.compile(r"ngettext\([^)]*\)")


def unmarked_literals(text: str) -> list[str]:
    return [match.group(2) for match in UNMARKED.finditer(PLURAL_CALL.sub("", text))]


def test_the_guard_finds_an_unmarked_word_and_passes_a_marked_one() -> None:
    assert unmarked_literals('{{ "Allows:" if ok else "Denies:" }}') == ["Allows:"]
    assert unmarked_literals('{{ _("Allows:") if ok else "Denies:" }}') == ["Denies:"]
    assert unmarked_literals('{{ "out to" if out else _("in from") }}') == ["out to"]
    assert unmarked_literals('{{ ngettext("a peer", "two peers", n) }} {{ "new peer" }}') == [
        "new peer"
    ]
    assert unmarked_literals("{{ _('Allows:') if ok else _('Denies:') }} {{ 'allows' }}") == []


def test_no_template_shows_an_untranslated_literal() -> None:
    found = {
        path.name: unmarked_literals(path.read_text(encoding="utf-8"))
        for path in sorted(TEMPLATES.glob("*.html"))
    }
    assert {name: words for name, words in found.items() if words} == {}
