"""Printing for people (tables, colours on a terminal) and for programs (``--json``)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def short(record_id: str) -> str:
    """The first 12 hex characters: enough to type back, unique in practice."""
    return record_id[:12]
