"""``rhizome member …``: the people who act on this node, and their roles."""

from __future__ import annotations

import sys

import click

from archive.db import transaction
from archive.event_log import append_event
from governance.members import (
    check_roles,
    list_members,
    remove_member,
    set_password_hash,
    set_roles,
)
from governance.roles import ROLES
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json
from node.home import create_member
from node.serialize import member_json
from node.web.auth import hash_password


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
    node, _ = cli.acting("member.manage")
    passphrase = node.passphrase_if_sealed()
    added = create_member(
        node.paths, node.db, node.identity, name, check_roles(list(roles)), passphrase, node.now()
    )
    console.print(f"Added {added.name} ({', '.join(added.roles)}).", markup=False)


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
    node, _ = cli.acting("member.manage")
    remove_member(node.db, node.identity, name, node.now())
    node.paths.member_key(name).unlink(missing_ok=True)
    console.print(f"Removed {name}.", markup=False)


@member.group()
def role() -> None:
    """Give a member a role, or take it away."""


def _change_roles(cli: CliContext, name: str, role_name: str, give: bool) -> None:
    node, _ = cli.acting("member.manage")
    current = set(node.member(name).roles)
    wanted = current | {role_name} if give else current - {role_name}
    if not wanted:
        raise click.ClickException(f"{name} would have no role left; remove the member instead")
    if not give and role_name == "admin":
        others = [m for m in list_members(node.db) if "admin" in m.roles and m.name != name]
        if not others:
            raise click.ClickException("refusing to take away the last admin's role")
    updated = set_roles(node.db, node.identity, name, check_roles(sorted(wanted)), node.now())
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
    node = cli.node()
    actor = node.member(cli.member)
    if actor.name != name:
        node.require(cli.member, "member.manage")
    target = node.member(name)
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with transaction(node.db):
        set_password_hash(node.db, target.name, hash_password(secret))
        append_event(node.db, node.identity, "member.password", target.name, {}, node.now())
    console.print(f"Password set for {target.name}.", markup=False)
