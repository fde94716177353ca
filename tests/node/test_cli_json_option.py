"""Every command that offers ``--json`` gets it from one decorator, with one help text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from node.cli import main
from node.cli.output import JSON_HELP

CLI = Path(__file__).resolve().parents[2] / "node" / "cli"


def _commands(command: click.Command, path: str = "rhizome") -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None, name
            yield from _commands(sub, f"{path} {name}")


def test_every_json_flag_says_the_same() -> None:
    offering = {}
    for path, command in _commands(main):
        for param in command.params:
            if "--json" in getattr(param, "opts", ()):
                offering[path] = (param.name, getattr(param, "help", None))
    assert len(offering) >= 13  # list, show, search, status, verify, sync, …
    assert set(offering.values()) == {("as_json", JSON_HELP)}, offering


def test_json_flag_is_declared_only_in_output_py() -> None:
    declared = [
        path.name
        for path in sorted(CLI.glob("*.py"))
        if '"--json"' in path.read_text(encoding="utf-8")
    ]
    assert declared == ["output.py"]
