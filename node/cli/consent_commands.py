"""``rhizome consent withdraw``: one participant withdraws consent to a lesson's files."""

from __future__ import annotations

import click

from node.actions.consent import WithdrawSubject, withdraw_subject
from node.cli.context import CliContext
from node.cli.network import run_with_client
from node.cli.output import console
from node.cli.revoke_commands import tell_holders_now
from node.i18n import gettext as _
from node.wording import plural


@click.group()
def consent() -> None:
    """Change the consent of the people in a lesson."""


@consent.command()
@click.argument("record_id", metavar="LESSON")
@click.option("--subject", required=True, help="The pseudonym, as in consent.subjects.")
@click.pass_obj
def withdraw(cli: CliContext, record_id: str, subject: str) -> None:
    """A participant withdraws consent to the photos and recordings of LESSON.

    A new signed version of the lesson keeps its text and drops every attachment showing or
    recording SUBJECT, who then agrees to be neither photographed nor recorded in it. The
    files are purged here and at every node that got them, each answering with a signed
    purge receipt (`rhizome receipts` on the id printed last shows them).
    """
    node, member = cli.acting_member()
    done = withdraw_subject(node, WithdrawSubject(member, record_id, subject))
    console.print(
        _("New version {id} without {subject}'s {attachments}; purged here.").format(
            id=done.new_version[:12],
            subject=subject,
            attachments=plural(len(done.files), "attachment"),
        ),
        markup=False,
    )
    if done.revocation_id is None:
        click.echo(done.new_version)
        return
    told, waiting = run_with_client(node, tell_holders_now)
    console.print(
        _(
            "Told {holders} at once; {waiting} unreachable now will be told by the running "
            "node as soon as they are back."
        ).format(holders=plural(told, "holder"), waiting=waiting),
        markup=False,
    )
    click.echo(done.revocation_id)
