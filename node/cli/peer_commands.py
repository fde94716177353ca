"""``rhizome peer …`` and ``rhizome sync``: pairing with trusted peers and exchanging records."""

from __future__ import annotations

import io
import sys

import click
import segno
from rich import filesize
from rich.progress import Progress, SpinnerColumn, TextColumn

from federation.client import PeerClient
from federation.invites import DEFAULT_TTL
from federation.peers import Peer, list_peers
from federation.sync import Progress as SyncProgress
from federation.sync import SyncReport, sync_with_peer
from node.actions.peers import (
    ChangePeerStatus,
    InvitePeer,
    PairWithInvite,
    invite_peer,
    pair_with_invite,
    set_peer_status,
)
from node.cli.context import CliContext
from node.cli.network import run_with_client
from node.cli.output import console, err_console, json_option, print_json
from node.i18n import gettext as _
from node.node import Node
from node.peer_sync import outcome, peers_to_sync, report_json, sync_now
from node.serialize import iso_time, peer_json


@click.group()
def peer() -> None:
    """Pair with trusted peers, list them, suspend or remove them."""


@peer.command()
@json_option
@click.option(
    "--ttl", type=click.IntRange(60, 7 * 24 * 3600), default=DEFAULT_TTL, show_default=True,
    help="Seconds until the code expires.",
)  # fmt: skip
@click.pass_obj
def invite(cli: CliContext, as_json: bool, ttl: int) -> None:
    """Print a one-time invite code for another hub (also as a QR code).

    The code is the last line of the output. Give it to the other hub's operator over a
    channel you trust; it works once, until it expires.
    """
    node, member = cli.acting_member()
    invitation = invite_peer(node, InvitePeer(member, ttl))
    text = invitation.code
    if as_json:
        print_json(
            {
                "code": text,
                "node_id": invitation.node_id,
                "url": invitation.url,
                "expires": iso_time(invitation.expires),
            }
        )
        return
    qr = io.StringIO()
    segno.make(text, error="m").terminal(out=qr, compact=True)
    sys.stdout.write(qr.getvalue())
    console.print(_("Our node id: {node_id}").format(node_id=node.node_id), markup=False)
    console.print(
        _("Expires: {when}. The other hub runs: rhizome peer add CODE").format(
            when=iso_time(invitation.expires)
        ),
        markup=False,
    )
    click.echo(text)


@peer.command()
@click.argument("code")
@click.pass_obj
def add(cli: CliContext, code: str) -> None:
    """Pair with the hub that gave you CODE (it must be running `rhizome serve`)."""
    node, member = cli.acting_member()
    asked = PairWithInvite(member, code)
    new_peer = run_with_client(node, lambda client: pair_with_invite(client, asked))
    paired = _("Paired with {name} ({region})").format(name=new_peer.name, region=new_peer.region)
    console.print(paired, markup=False)
    console.print(_("Their node id: {node_id}").format(node_id=new_peer.node_id), markup=False)
    console.print(_("Compare this id with the one their operator reads out to you."))


@peer.command(name="list")
@json_option
@click.pass_obj
def list_(cli: CliContext, as_json: bool) -> None:
    """List peers with their status, last sync, records sent and received, and strikes."""
    node = cli.node()
    peers = [peer_json(node.db, p) for p in list_peers(node.db)]
    if as_json:
        print_json(peers)
        return
    if not peers:
        console.print(
            _("No peers yet. Pair with `rhizome peer invite` and `rhizome peer add CODE`.")
        )
        return
    never = _("never")
    for p in peers:
        lines = [
            f"{p['name']} ({p['region']}) [{p['status']}]  {p['url']}",
            f"  {p['id']}",
        ]
        if p["rotated"]:  # the id stays the first key's; say which key signs for it now
            lines.append(
                "  " + _("current key {key} (rotated {when})").format(
                    key=p["current_key"], when=p["rotated"]
                )
            )
        lines += [
            "  "
            + _("last exchange {exchange} (either way), last successful sync {sync}").format(
                exchange=p["last_exchange"] or never, sync=p["last_sync"] or never
            ),
            "  "
            + _("sent {sent}, received {received}, strikes {strikes}").format(
                sent=p["sent"], received=p["received"], strikes=p["strikes"]
            ),
        ]
        if p["last_error"]:
            lines.append("  " + _("last error: {error}").format(error=p["last_error"]))
        console.print("\n".join(lines), markup=False)


def _change_status(cli: CliContext, text: str, event: str, verb: str) -> None:
    node, member = cli.acting_member()
    changed = set_peer_status(node, ChangePeerStatus(member, text, event))
    console.print(f"{verb} {changed.name}.", markup=False)


@peer.command()
@click.argument("peer_ref", metavar="PEER")
@click.pass_obj
def suspend(cli: CliContext, peer_ref: str) -> None:
    """Stop exchanging with PEER (node id or name) until you resume it."""
    _change_status(cli, peer_ref, "suspend", "Suspended")


@peer.command()
@click.argument("peer_ref", metavar="PEER")
@click.pass_obj
def resume(cli: CliContext, peer_ref: str) -> None:
    """Exchange with a suspended PEER again."""
    _change_status(cli, peer_ref, "resume", "Resumed")


@peer.command()
@click.argument("peer_ref", metavar="PEER")
@click.pass_obj
def remove(cli: CliContext, peer_ref: str) -> None:
    """Stop trusting PEER. Records it already has stay listed, for revocation."""
    _change_status(cli, peer_ref, "remove", "Removed")


@click.command()
@click.argument("peer_ref", metavar="[PEER]", required=False)
@json_option
@click.pass_obj
def sync(cli: CliContext, peer_ref: str | None, as_json: bool) -> None:
    """Exchange records both ways with PEER, or with every active peer.

    With --json: what moved with each peer, as a JSON array. Exit status 1 if any peer could
    not be synced.
    """
    node, member = cli.acting_member()
    peers = peers_to_sync(node, member, peer_ref)
    reports = _sync_peers(node, peers, show_progress=not as_json)
    if as_json:
        print_json([report_json(report) for report in reports])
    else:
        names = {p.node_id: p.name for p in peers}
        for report in reports:
            console.print(outcome(names[report.peer], report), markup=False)
        if not reports:
            console.print(_("No active peers to sync with."), markup=False)
    if any(report.errors for report in reports):
        sys.exit(1)


def _sync_peers(node: Node, peers: list[Peer], show_progress: bool) -> list[SyncReport]:
    disable = not (show_progress and err_console.is_terminal)
    columns = (
        TextColumn("{task.description}"),
        SpinnerColumn(),
        TextColumn("{task.completed} records, {task.fields[size]}"),
    )

    async def work(client: PeerClient) -> list[SyncReport]:
        with Progress(*columns, console=err_console, disable=disable) as bar:
            return await sync_now(
                peers, lambda p: sync_with_peer(client, p, _progress_for(bar, p.name))
            )

    return run_with_client(node, work)


def _progress_for(bar: Progress, name: str) -> SyncProgress:
    task = bar.add_task(f"Sync with {name}", total=None, size="0 bytes")
    moved = 0

    def advance(records: int, size: int) -> None:
        nonlocal moved
        moved += size
        bar.update(task, advance=records, size=filesize.decimal(moved))

    return advance


def _add_purposes_command() -> None:
    # `rhizome peer purposes` lives beside `rhizome purposes`, which replaces it.
    from node.cli.purposes_commands import peer_purposes

    peer.add_command(peer_purposes, "purposes")


_add_purposes_command()
