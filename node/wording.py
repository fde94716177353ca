"""Counted nouns, one rule for the CLI and the web pages: ``1 record``, ``2 records``, in the
current language with its own plural forms (Arabic has six: zero, one, two, a few, many,
other), through gettext's ``ngettext``.

Each noun is a whole ``ngettext`` call of its own, so ``pybabel extract`` finds both forms and
a translator writes every form the language needs; ``plural`` looks the noun up here."""

from __future__ import annotations

from collections.abc import Callable

from node.i18n import ngettext

COUNTED: dict[str, Callable[[int], str]] = {
    "record": lambda n: ngettext("{count} record", "{count} records", n),
    "withdrawal": lambda n: ngettext("{count} withdrawal", "{count} withdrawals", n),
    "purge receipt": lambda n: ngettext("{count} purge receipt", "{count} purge receipts", n),
    "attachment": lambda n: ngettext("{count} attachment", "{count} attachments", n),
    "holder": lambda n: ngettext("{count} holder", "{count} holders", n),
    "log entry": lambda n: ngettext("{count} log entry", "{count} log entries", n),
}


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun`` in the current language, in the form its count asks for
    (``KeyError`` for a noun not in :data:`COUNTED`: add it there, with its translations)."""
    return COUNTED[noun](count).format(count=count)
