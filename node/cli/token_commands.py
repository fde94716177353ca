"""``rhizome member token …``: read-only API tokens for a member's scripts."""

from __future__ import annotations

import click

from node.actions.members import (
    CreateToken,
    RevokeToken,
    create_token,
    list_tokens,
    revoke_token,
)
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json
from node.i18n import gettext as _
from node.serialize import iso_time


@click.group()
def token() -> None:
    """Make, list and revoke read-only API tokens (Authorization: Bearer …)."""


@token.command()
@click.argument("name")
@click.option("--label", default="", help="What the token is for (shown in the list).")
@click.pass_obj
def create(cli: CliContext, name: str, label: str) -> None:
    """Make a read-only API token for member NAME (admins, or the member).

    The token is printed once: the node keeps only a keyed hash of it. Scripts send it as
    ``Authorization: Bearer TOKEN``; it reads what NAME may read and never writes.
    """
    node, member = cli.acting_member()
    made = create_token(node, CreateToken(member, name, label))
    said = _("Token {id} for {name} (shown once, keep it safe):")
    console.print(said.format(id=made.token.id, name=made.token.member), markup=False)
    click.echo(made.secret)


@token.command(name="list")
@click.argument("name", required=False)
@json_option
@click.pass_obj
def list_(cli: CliContext, name: str | None, as_json: bool) -> None:
    """List API tokens (of member NAME, or everyone's for an admin); never the secrets."""
    node, member = cli.acting_member()
    tokens = list_tokens(node, member, name)
    if as_json:
        print_json([
            {"id": t.id, "member": t.member, "label": t.label, "created": iso_time(t.created_at)}
            for t in tokens
        ])  # fmt: skip
        return
    for t in tokens:
        console.print(f"{t.id}  {t.member:20} {iso_time(t.created_at)}  {t.label}", markup=False)


@token.command()
@click.argument("token_id")
@click.pass_obj
def revoke(cli: CliContext, token_id: str) -> None:
    """Revoke API token TOKEN_ID at once (its owner, or an admin)."""
    node, member = cli.acting_member()
    revoked = revoke_token(node, RevokeToken(member, token_id))
    said = _("Revoked token {id} of {name}.").format(id=revoked.id, name=revoked.member)
    console.print(said, markup=False)
