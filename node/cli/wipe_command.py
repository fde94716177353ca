"""``rhizome wipe``: destroy this node, keys first (node/wipe.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import click

from crypto.errors import RhizomeError
from federation.client import PeerClient
from federation.gone import Told, tell_peers_gone
from federation.peers import list_peers
from node.actions.wipe import WipeNode, authorize_wipe
from node.cli.context import CliContext
from node.cli.output import console, err_console
from node.config import load_config
from node.home import HomePaths
from node.i18n import N_, ngettext
from node.i18n import gettext as _
from node.node import Node
from node.wipe import require_wipeable, wipe_home

WARNING = N_(
    "This destroys the node in {home}: its keys first, then every file of the home.\n"
    "It cannot be undone. A backup you made is the only way back (keep it elsewhere).\n"
)


@click.command()
@click.option(
    "--yes-destroy-this-node", "confirmed", is_flag=True,
    help="Do not ask for the node's name (for scripts and panic buttons).",
)  # fmt: skip
@click.option(
    "--tell-peers", is_flag=True,
    help="First send each peer a signed 'this node is gone' notice (best effort, 5 s; "
    "needs the node key, so its passphrase).",
)  # fmt: skip
@click.pass_obj
def wipe(cli: CliContext, confirmed: bool, tell_peers: bool) -> None:
    """Destroy this node in seconds: key material first (overwritten, flushed, deleted), so
    nothing of a sealed node can be decrypted even if the rest is interrupted; then a running
    `rhizome serve` on this home is stopped and the home deleted.

    At a terminal you type the node's name to confirm. Read docs/how-to/wipe-a-node.md for
    what a wipe cannot promise (flash memory, copies and backups elsewhere, and an unsealed
    node's database, whose files are only deleted).
    """
    home = cli.home
    require_wipeable(home)
    name = _node_name(home)
    if not confirmed:
        typed = _ask_confirmation(home, name)
        authorize_wipe(name, WipeNode(None, typed))
    if tell_peers:
        for told in _tell_peers(Node(home)):
            if told.error is None:
                said = _("{peer}: told").format(peer=told.peer.name)
            else:
                said = _("{peer}: not told ({error})").format(peer=told.peer.name, error=told.error)
            err_console.print(said, markup=False)
    report = wipe_home(home)
    values = {
        "home": home,
        "seconds": f"{report.seconds:.2f}",
        "count": len(report.destroyed),
        "pid": report.server_stopped,
    }
    if report.server_stopped:
        wiped = ngettext(
            "Wiped {home} in {seconds} s: destroyed {count} key file first; stopped its "
            "server (PID {pid}), then deleted the home.",
            "Wiped {home} in {seconds} s: destroyed {count} key files first; stopped its "
            "server (PID {pid}), then deleted the home.",
            len(report.destroyed),
        )
    else:
        wiped = ngettext(
            "Wiped {home} in {seconds} s: destroyed {count} key file first, then deleted the home.",
            "Wiped {home} in {seconds} s: destroyed {count} key files first, then deleted "
            "the home.",
            len(report.destroyed),
        )
    console.print(wiped.format(**values), markup=False)


def _node_name(home: Path) -> str:
    """The name to type; a half-wiped home (no config left) asks for "wipe"."""
    try:
        return load_config(HomePaths(home).config).name
    except (RhizomeError, OSError):
        return "wipe"


def _ask_confirmation(home: Path, name: str) -> str:
    if not sys.stdin.isatty():
        raise click.ClickException(
            _(
                "`rhizome wipe` asks for the node's name at a terminal; in a script pass "
                "--yes-destroy-this-node. Nothing was deleted."
            )
        )
    err_console.print(_(WARNING).format(home=home), markup=False)
    asked = _("Type the node's name ({name}) to destroy it").format(name=name)
    return str(click.prompt(asked, err=True))


def _tell_peers(node: Node) -> list[Told]:
    """The gone notice to every active peer, under one deadline; closes the node."""
    try:
        peers = list_peers(node.db)

        async def main() -> list[Told]:
            async with aiohttp.ClientSession() as session:
                return await tell_peers_gone(PeerClient(node.local_node(), session), peers)

        return asyncio.run(main())
    finally:
        node.close()
