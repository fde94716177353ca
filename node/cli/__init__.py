"""The ``rhizome`` command line.

Global options come before the subcommand: ``--home`` picks the node home and ``--as`` the
member who acts. Every error we expected is printed as one line (``Error: …``) with exit
status 1; a traceback means a bug.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.db import is_storage_full, storage_full
from crypto.errors import RhizomeError
from node.cli.context import CliContext
from node.home import default_home
from node.i18n import DEFAULT, error_text, from_environment, language
from node.node import DEFAULT_MEMBER


class RhizomeGroup(click.Group):
    """A click group that turns our own errors into one clear line."""

    def invoke(self, ctx: click.Context) -> Any:
        # The command speaks the language of the environment (RHIZOME_LANGUAGE, LANGUAGE,
        # LANG...), only for its own run: an in-process caller keeps its own language.
        with language(from_environment() or DEFAULT):
            return self._invoke_explained(ctx)

    def _invoke_explained(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RhizomeError as error:
            raise click.ClickException(error_text(error)) from error
        except OSError as error:  # a file write on a full disk: the same one line
            if not is_storage_full(error):
                raise
            raise click.ClickException(str(storage_full(error))) from error


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
    ctx.obj = CliContext(home=home or default_home(), member=member)


def _register() -> None:
    from node.cli import (
        backup_commands,
        bundle_commands,
        collection_commands,
        consent_commands,
        doctor_command,
        init_command,
        key_commands,
        lesson_commands,
        member_commands,
        peer_commands,
        policy_commands,
        revoke_commands,
        seal_commands,
        serve_command,
        status_command,
        verify_command,
        wipe_command,
    )

    main.add_command(init_command.init)
    main.add_command(lesson_commands.lesson)
    main.add_command(member_commands.member)
    main.add_command(policy_commands.policy)
    main.add_command(peer_commands.peer)
    main.add_command(peer_commands.sync)
    main.add_command(bundle_commands.bundle)
    main.add_command(revoke_commands.revoke)
    main.add_command(revoke_commands.receipts)
    main.add_command(consent_commands.consent)
    peer_commands.peer.add_command(consent_commands.purposes)
    main.add_command(verify_command.verify)
    main.add_command(serve_command.serve)
    main.add_command(status_command.status)
    main.add_command(doctor_command.doctor)
    main.add_command(key_commands.key)
    main.add_command(serve_command.demo)
    main.add_command(collection_commands.collection)
    main.add_command(backup_commands.backup)
    main.add_command(backup_commands.restore)
    main.add_command(wipe_command.wipe)
    main.add_command(seal_commands.seal)
    main.add_command(seal_commands.passphrase)


_register()
