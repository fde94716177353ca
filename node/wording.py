"""Counted nouns in English, one rule for the CLI and the web pages: ``1 record``,
``2 records``, ``0 records``."""

from __future__ import annotations

IRREGULAR = {"entry": "entries", "delivery": "deliveries", "try": "tries"}


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, the noun in the plural unless the count is exactly one."""
    if count == 1:
        return f"{count} {noun}"
    if " " in noun:  # "log entry" → "log entries": only the last word changes
        head, _, last = noun.rpartition(" ")
        return f"{count} {head} {IRREGULAR.get(last, last + 's')}"
    return f"{count} {IRREGULAR.get(noun, noun + 's')}"
