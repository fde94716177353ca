"""The ``rhizome`` command line.

Global options come before the subcommand: ``--home`` picks the node home and ``--as`` the
member who acts. Every error we expected is printed as one line (``Error: …``, in the
command's language) with exit status 1; a traceback means a bug.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import IO, Any

import click

from crypto.errors import RhizomeError
from node.i18n import DEFAULT, error_text, from_environment, language
from node.i18n import gettext as _
from node.members_default import DEFAULT_MEMBER


class ExplainedError(click.ClickException):
    """An expected error, as one line in the command's language: click prints the line after
    the command's language has ended, so it is worded when the error is raised."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.line = _("Error: {message}").format(message=message)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.line, file=file, err=file is None)


class RhizomeGroup(click.Group):
    """A click group that turns our own errors into one clear line, and loads each command's
    module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        # The command speaks the language of the environment (RHIZOME_LANGUAGE, LANGUAGE,
        # LANG...), only for its own run: an in-process caller keeps its own language.
        with language(from_environment() or DEFAULT):
            return self._invoke_explained(ctx)

    def _invoke_explained(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RhizomeError as error:
            raise ExplainedError(error_text(error)) from error
        except OSError as error:  # a file write on a full disk: the same one line
            from archive.db import is_storage_full, storage_full

            if not is_storage_full(error):
                raise
            raise ExplainedError(error_text(storage_full(error))) from error
        except click.ClickException as error:
            if type(error) is not click.ClickException:  # usage errors: click's own words
                raise
            raise ExplainedError(error.message) from error


@click.group(cls=RhizomeGroup)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="RHIZOME_HOME",
    default=None,
    help="Node home folder [env RHIZOME_HOME; default: your user data folder].",
)
@click.option(
    "--as",
    "member",
    envvar="RHIZOME_MEMBER",
    default=DEFAULT_MEMBER,
    show_default=True,
    help="The member who acts [env RHIZOME_MEMBER].",
)
@click.version_option(package_name="rhizome")
@click.pass_context
def main(ctx: click.Context, home: Path | None, member: str) -> None:
    """Rhizome: your hub's signed archive of lessons, shared with consent."""
    from node.cli.context import CliContext
    from node.home import default_home

    ctx.obj = CliContext(home=home or default_home(), member=member)


# Each command's module is imported only when that command runs (or help lists it): a
# subprocess that runs `rhizome lesson add` need not load the web pages, the PDF writer or the
# HTTP client, which made every command start in about two seconds.
COMMANDS: dict[str, str] = {
    "init": "node.cli.init_command:init",
    "lesson": "node.cli.lesson_commands:lesson",
    "member": "node.cli.member_commands:member",
    "policy": "node.cli.policy_commands:policy",
    "peer": "node.cli.peer_commands:peer",
    "sync": "node.cli.peer_commands:sync",
    "bundle": "node.cli.bundle_commands:bundle",
    "revoke": "node.cli.revoke_commands:revoke",
    "receipts": "node.cli.revoke_commands:receipts",
    "consent": "node.cli.consent_commands:consent",
    "purposes": "node.cli.purposes_commands:purposes",
    "verify": "node.cli.verify_command:verify",
    "serve": "node.cli.serve_command:serve",
    "status": "node.cli.status_command:status",
    "doctor": "node.cli.doctor_command:doctor",
    "key": "node.cli.key_commands:key",
    "demo": "node.cli.serve_command:demo",
    "collection": "node.cli.collection_commands:collection",
    "backup": "node.cli.backup_commands:backup",
    "restore": "node.cli.backup_commands:restore",
    "wipe": "node.cli.wipe_command:wipe",
    "seal": "node.cli.seal_commands:seal",
    "passphrase": "node.cli.seal_commands:passphrase",
}
