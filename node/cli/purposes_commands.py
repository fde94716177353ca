"""``rhizome purposes``: what this hub declares it uses lessons for; ``rhizome peer purposes``
for peers older than declarations."""

from __future__ import annotations

import click

from federation.peers import list_peers
from federation.purposes import declared_by_peer
from node.actions.purposes import (
    DeclareOwnPurposes,
    RecordPeerPurposes,
    declare_purposes,
    declared_purposes,
    record_peer_purposes,
)
from node.cli.context import CliContext
from node.cli.output import console
from node.i18n import gettext as _


@click.group()
def purposes() -> None:
    """What this hub uses lessons for (training, research, press, …), told to its peers."""


@purposes.command("set")
@click.argument("words", metavar="[PURPOSE]...", nargs=-1)
@click.pass_obj
def set_purposes(cli: CliContext, words: tuple[str, ...]) -> None:
    """Declare what this hub uses lessons for: rhizome purposes set training research.

    Each peer gets the declaration, signed with the node key, at the start of the next sync
    with it. A lesson whose consent names purposes goes to a hub only if all of the hub's
    declared purposes are among them. With no PURPOSE, this hub declares none.
    """
    node, member = cli.acting("peer.manage")
    declared = declare_purposes(node, DeclareOwnPurposes(member, words))
    said = ", ".join(declared.purposes) or _("none")
    console.print(_("This hub uses lessons for: {purposes}").format(purposes=said), markup=False)
    console.print(_("Each peer is told at the next sync with it."), markup=False)


@purposes.command("show")
@click.pass_obj
def show_purposes(cli: CliContext) -> None:
    """What this hub declared, and what each peer declared (or was recorded here for it)."""
    node = cli.node()
    own = declared_purposes(node)
    said = _("not declared") if own is None else ", ".join(own.purposes) or _("none")
    console.print(_("This hub uses lessons for: {purposes}").format(purposes=said), markup=False)
    for peer in list_peers(node.db):
        words = ", ".join(peer.purposes) or _("none")
        how = _("declared, signed") if declared_by_peer(node.db, peer.node_id) else _(
            "recorded here"
        )
        console.print(f"{peer.name}: {words} ({how})", markup=False)


@click.command()
@click.argument("peer_ref", metavar="PEER")
@click.argument("words", metavar="[PURPOSE]...", nargs=-1)
@click.pass_obj
def peer_purposes(cli: CliContext, peer_ref: str, words: tuple[str, ...]) -> None:
    """Record what PEER uses lessons for, for a peer older than purposes declarations.

    A peer that declared its purposes itself (signed, at pairing or after a change) keeps
    them: this is refused for it. With no PURPOSE, the record is cleared.
    """
    node, member = cli.acting("peer.manage")
    peer = record_peer_purposes(node, RecordPeerPurposes(member, peer_ref, words))
    said = ", ".join(peer.purposes) or _("none")
    console.print(
        _("{peer} uses lessons for: {purposes}").format(peer=peer.name, purposes=said),
        markup=False,
    )
