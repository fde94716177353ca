"""``rhizome seal`` and ``rhizome passphrase change`` (node/seal.py)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from crypto.errors import KeyFileError
from node.cli.context import CliContext
from node.cli.output import console, err_console
from node.home import HomePaths
from node.i18n import gettext as _
from node.passphrase import passphrase_from_env_or_prompt
from node.passphrase_sources import CHOOSING_SCREEN, propose_passphrase, read_passphrase_file
from node.seal import change_passphrase, seal_home

MIN_PASSPHRASE = 12


def choose_passphrase(file: Path | None, *, allow_none: bool) -> str | None:
    """A new passphrase: from ``file`` (0600, yours), else typed twice at a terminal after
    the one-screen explanation with a proposal. ``None`` when the person chose none."""
    if file is not None:
        return _long_enough(read_passphrase_file(file))
    if not sys.stdin.isatty():
        raise KeyFileError(
            _("no terminal to type a new passphrase: pass --passphrase-file F (mode 0600)")
        )
    err_console.print(_(CHOOSING_SCREEN).format(proposal=propose_passphrase()), markup=False)
    first = getpass.getpass(_("New passphrase: "))
    if not first and allow_none:
        return None
    _long_enough(first)
    if getpass.getpass(_("Type it again: ")) != first:
        raise KeyFileError(_("the two passphrases differ; nothing was changed"))
    return first


def _long_enough(passphrase: str) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(
            _(
                "a passphrase of fewer than {count} characters is too easy to guess from a "
                "seized disk; take the proposed words, or four words or more"
            ).format(count=MIN_PASSPHRASE)
        )
    return passphrase


@click.command()
@click.option(
    "--passphrase-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Read the new passphrase from this file (mode 0600, yours) instead of asking.",
)  # fmt: skip
@click.pass_obj
def seal(cli: CliContext, passphrase_file: Path | None) -> None:
    """Seal this node home in place: encrypt its database, keys and secrets under a
    passphrase. Stop `rhizome serve` first.

    Safe against a crash or kill at any moment: the old home stays usable until the sealed
    one is complete, and a half-finished switch is completed the next time the home is
    opened. Old plain files are overwritten and deleted; copies made before (backups, a
    flash disk's spare blocks) are out of reach: see docs/how-to/seal-your-hub.md.
    """
    paths = HomePaths(cli.home)
    paths.require_existing()
    passphrase = choose_passphrase(passphrase_file, allow_none=False)
    assert passphrase is not None
    seal_home(paths, passphrase, passphrase_from_env_or_prompt)
    console.print(
        _(
            "Sealed {home}: the database, node key, member keys, session key and attachment "
            "files are now encrypted under your passphrase. Keep it apart from the machine."
        ).format(home=cli.home),
        markup=False,
    )


@click.group()
def passphrase() -> None:
    """Change the passphrase of a sealed node home."""


@passphrase.command("change")
@click.option(
    "--new-passphrase-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Read the new passphrase from this file (mode 0600, yours) instead of asking.",
)  # fmt: skip
@click.pass_obj
def change(cli: CliContext, new_passphrase_file: Path | None) -> None:
    """Change the passphrase: asks the current one, then the new one (twice).

    Only home.key is rewritten (the home key it wraps stays the same), so it is quick and a
    running server keeps running. A copy of the old home.key (in a backup) still opens with
    the old passphrase.
    """
    node = cli.node()
    home_key = node.keys.require_home_key()  # asks for the current passphrase first
    new = choose_passphrase(new_passphrase_file, allow_none=False)
    assert new is not None
    change_passphrase(node.paths.root, home_key, new)
    console.print(_("Passphrase changed; the old one no longer opens this home."), markup=False)
