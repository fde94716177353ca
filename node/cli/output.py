"""Printing for people (tables, colours on a terminal) and for programs (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
Command = TypeVar("Command", bound=Callable[..., Any])
JSON_HELP = "Print JSON for programs instead of text."


def json_option(command: Command) -> Command:
    """The one ``--json`` flag of every command that offers it (passed as ``as_json``), with
    the same help everywhere; what the JSON holds is in each command's help and the docs."""
    return click.option("--json", "as_json", is_flag=True, help=JSON_HELP)(command)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def short(record_id: str) -> str:
    """The first 12 hex characters: enough to type back, unique in practice."""
    return record_id[:12]
