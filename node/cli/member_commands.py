"""``rhizome member …``: the people who act on this node, and their roles."""

from __future__ import annotations

import sys

import click

from governance.members import list_members
from governance.roles import ROLES
from node.actions.language import FOLLOW_BROWSER, ChooseLanguage, choose_language, language_of
from node.actions.member_keys import MarkCompromised, mark_member_compromised
from node.actions.members import (
    AddMember,
    ChangeRole,
    RemoveMember,
    SetPassword,
    add_member,
    change_role,
    password_target,
    remove_from_node,
    set_password,
)
from node.cli.context import CliContext
from node.cli.key_commands import parse_time
from node.cli.output import console, json_option, print_json
from node.cli.token_commands import token
from node.i18n import NATIVE_NAMES
from node.i18n import gettext as _
from node.serialize import member_json


@click.group()
def member() -> None:
    """Add members, give or take roles, list and remove them."""


@member.command()
@click.argument("name")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
    help="A role to give (repeat for several).",
)  # fmt: skip
@click.pass_obj
def add(cli: CliContext, name: str, roles: tuple[str, ...]) -> None:
    """Add member NAME with a new key, certified by this node (admins only)."""
    node, member = cli.acting_member()
    added = add_member(node, AddMember(member, name, roles))
    said = _("Added {name} ({roles}).").format(name=added.name, roles=", ".join(added.roles))
    console.print(said, markup=False)


@member.command(name="list")
@json_option
@click.pass_obj
def list_(cli: CliContext, as_json: bool) -> None:
    """List the members and their roles."""
    members = list_members(cli.node().db)
    if as_json:
        print_json([member_json(m) for m in members])
        return
    for m in members:
        console.print(f"{m.name:20} {', '.join(m.roles)}", markup=False)


@member.command()
@click.argument("name")
@click.pass_obj
def remove(cli: CliContext, name: str) -> None:
    """Remove member NAME: they can no longer act, and their approvals stop counting."""
    node, member = cli.acting_member()
    remove_from_node(node, RemoveMember(member, name))
    console.print(_("Removed {name}.").format(name=name), markup=False)


@member.command()
@click.argument("name")
@click.option("--since", "since", required=True, metavar="TIME",
              help="When the key may have been taken (ISO 8601, e.g. 2026-12-01T18:00Z).")
@click.pass_obj
def compromised(cli: CliContext, name: str, since: str) -> None:
    """Mark member NAME's key compromised since TIME: their certificate is revoked (they can no
    longer act) and approvals stored from TIME on stop counting; earlier ones still count.
    `rhizome policy explain` says which approvals no longer count."""
    node, member = cli.acting_member()
    moment = parse_time(since)
    mark_member_compromised(node, MarkCompromised(member, name, moment))
    console.print(
        _(
            "{name}'s key is marked compromised since {since}: their approvals from then on "
            "no longer count, and they can no longer act. Add them again with a new key if "
            "needed."
        ).format(name=name, since=since),
        markup=False,
    )


@member.command()
@click.argument("name")
@click.argument("language", required=False)
@click.pass_obj
def language(cli: CliContext, name: str, language: str | None) -> None:
    """Show or choose the language the web pages speak to member NAME.

    LANGUAGE is one of en, es, fr, pt, sw, ar, or "browser" to follow the browser's
    Accept-Language again. A member chooses their own; admins choose for anyone.
    """
    if language is None:
        chosen = language_of(cli.node(), name)
        console.print(chosen or FOLLOW_BROWSER, markup=False)
        return
    node, member = cli.acting_member()
    chosen = choose_language(node, ChooseLanguage(member, name, language))
    if chosen is None:
        said = _("{name} now reads the pages in their browser's language.").format(name=name)
    else:
        said = _("{name} now reads the pages in {language} ({code}).").format(
            name=name, language=NATIVE_NAMES[chosen], code=chosen
        )
    console.print(said, markup=False)


@member.group()
def role() -> None:
    """Give a member a role, or take it away."""


def _change_roles(cli: CliContext, name: str, role_name: str, give: bool) -> None:
    node, member = cli.acting_member()
    updated = change_role(node, ChangeRole(member, name, role_name, give))
    console.print(f"{updated.name}: {', '.join(updated.roles)}", markup=False)


@role.command(name="add")
@click.argument("name")
@click.argument("role_name", metavar="ROLE", type=click.Choice(ROLES))
@click.pass_obj
def role_add(cli: CliContext, name: str, role_name: str) -> None:
    """Give member NAME the role ROLE."""
    _change_roles(cli, name, role_name, give=True)


@role.command(name="remove")
@click.argument("name")
@click.argument("role_name", metavar="ROLE", type=click.Choice(ROLES))
@click.pass_obj
def role_remove(cli: CliContext, name: str, role_name: str) -> None:
    """Take the role ROLE from member NAME."""
    _change_roles(cli, name, role_name, give=False)


@member.command()
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def password(cli: CliContext, name: str, from_stdin: bool) -> None:
    """Set member NAME's password for signing in to the web UI (admins, or the member).

    Asked twice on the terminal; at least ten characters.
    """
    node, member = cli.acting_member()
    password_target(node, member, name)  # refused before the password is typed
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = click.prompt(_("New password"), hide_input=True, confirmation_prompt=True)
    target = set_password(node, SetPassword(member, name, secret))
    console.print(_("Password set for {name}.").format(name=target.name), markup=False)


member.add_command(token)
