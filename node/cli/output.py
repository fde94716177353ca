"""Printing for people (tables, colours on a terminal) and for programs (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from node.i18n import DEFAULT, set_language

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
Command = TypeVar("Command", bound=Callable[..., Any])
JSON_HELP = "Print JSON for programs instead of text."


def json_option(command: Command) -> Command:
    """The one ``--json`` flag of every command that offers it (passed as ``as_json``), with
    the same help everywhere; what the JSON holds is in each command's help and the docs.

    With ``--json`` the command speaks English, whatever the environment's language: programs
    read its output (and match its errors), and must not break when a person's LANG changes."""
    return click.option(
        "--json", "as_json", is_flag=True, help=JSON_HELP, callback=_english_for_programs
    )(command)


def _english_for_programs(_ctx: click.Context, _param: click.Parameter, as_json: bool) -> bool:
    if as_json:  # for the rest of this command only (the CLI group scopes the language)
        set_language(DEFAULT)
    return as_json


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def short(record_id: str) -> str:
    """The first 12 hex characters: enough to type back, unique in practice."""
    return record_id[:12]
