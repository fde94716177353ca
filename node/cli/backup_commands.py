"""``rhizome backup`` and ``rhizome restore`` (node/backup.py)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from crypto.errors import KeyFileError
from node.backup import restore_backup, write_backup
from node.cli.context import CliContext
from node.cli.output import console
from node.i18n import gettext as _
from node.i18n import ngettext
from node.passphrase import ENV_VAR
from node.serialize import iso_time

BACKUP_ENV_VAR = "RHIZOME_BACKUP_PASSPHRASE"
MIN_BACKUP_PASSPHRASE = 12


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(cli: CliContext, file: Path) -> None:
    """Write the whole node to FILE: one encrypted file signed by the node key, made while
    the node runs (the database is copied consistently).

    A sealed node's backup is encrypted with its passphrase (asked, or RHIZOME_PASSPHRASE),
    its keys stay sealed inside. An unsealed node asks for a backup passphrase (typed twice,
    or RHIZOME_BACKUP_PASSPHRASE). Keep the file away from the hub: it is the node.
    """
    node = cli.node()
    passphrase = node.passphrase_if_sealed() or _new_backup_passphrase()
    report = write_backup(node, file, passphrase)
    console.print(
        _(
            "Backed up node {node} to {path} ({size} bytes, {seconds} s). Restore it with "
            "`rhizome restore {path} --home DIR`."
        ).format(
            node=report.node_id,
            path=report.path,
            size=f"{report.size:,}",
            seconds=f"{report.seconds:.1f}",
        ),
        markup=False,
    )


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--home", "target", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The empty or new folder to restore into [default: the global --home].",
)  # fmt: skip
@click.pass_obj
def restore(cli: CliContext, file: Path, target: Path | None) -> None:
    """Bring the node in backup FILE back into an empty or new folder.

    The file's signature is checked first (a changed file is refused before anything is
    asked), then its passphrase (RHIZOME_BACKUP_PASSPHRASE, RHIZOME_PASSPHRASE, or asked).
    Until each peer has told it the withdrawals it made after the backup, the restored
    node offers nothing to anyone: start `rhizome serve` and it asks them first.
    """
    home = target or cli.home
    report = restore_backup(file, home, _remembered(_backup_passphrase))
    restored = _("Restored node {name} ({node}) as it was at {at} into {home}.").format(
        name=report.name, node=report.node_id, at=iso_time(report.created_at), home=report.home
    )
    waiting = ngettext(
        "It offers nothing until {count} peer told it the withdrawals it made since: start "
        "`rhizome serve` (it asks them first).",
        "It offers nothing until {count} peers told it the withdrawals it made since: start "
        "`rhizome serve` (it asks them first).",
        report.peers_to_relearn,
    ).format(count=report.peers_to_relearn)
    console.print(f"{restored}\n{waiting}", markup=False)


def _remembered(source: Callable[[], str]) -> Callable[[], str]:
    known: list[str] = []

    def ask() -> str:
        if not known:
            known.append(source())
        return known[0]

    return ask


def _backup_passphrase() -> str:
    for name in (BACKUP_ENV_VAR, ENV_VAR):
        if (value := os.environ.get(name)) is not None:
            return value
    if sys.stdin.isatty():
        return getpass.getpass(_("Passphrase of the backup: "))
    raise KeyFileError(
        _("the backup is encrypted: set {variable} or run in a terminal").format(
            variable=BACKUP_ENV_VAR
        )
    )


def _new_backup_passphrase() -> str:
    """A passphrase for an unsealed node's backup (never empty: the file holds the keys)."""
    value = os.environ.get(BACKUP_ENV_VAR)
    if value is None:
        if not sys.stdin.isatty():
            raise KeyFileError(
                _(
                    "this node is not sealed: set {variable} to a backup passphrase, or run in "
                    "a terminal"
                ).format(variable=BACKUP_ENV_VAR)
            )
        value = getpass.getpass(_("New passphrase for the backup: "))
        if getpass.getpass(_("Type it again: ")) != value:
            raise KeyFileError(_("the two passphrases differ; no backup was written"))
    if len(value) < MIN_BACKUP_PASSPHRASE:
        raise KeyFileError(
            _(
                "a backup passphrase needs at least {count} characters; no backup was written"
            ).format(count=MIN_BACKUP_PASSPHRASE)
        )
    return value
