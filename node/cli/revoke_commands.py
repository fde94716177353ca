"""``rhizome revoke`` and ``rhizome receipts``: withdraw a lesson everywhere, and see proof."""

from __future__ import annotations

import asyncio

import click

from archive.tombstones import resolve_revoked_id
from federation.client import PeerClient
from federation.errors import FederationError
from federation.peers import Peer, get_peer
from federation.propagation import peers_with_outbox, receipt_status
from federation.revocation import REASONS
from federation.revocation_client import ExchangeReport, push_outbox
from node.actions.lessons import RevokeLesson, revoke_lesson
from node.cli.context import CliContext
from node.cli.network import run_with_client
from node.cli.output import console, json_option, print_json, short
from node.i18n import gettext as _
from node.i18n import ngettext
from node.serialize import holder_json

IMMEDIATE_DEADLINE = 5.0


@click.command()
@click.argument("record_id", metavar="ID")
@click.option("--reason", required=True, type=click.Choice(REASONS), help="Why it is withdrawn.")
@click.option("--note", default=None, help="A note kept on this node only (it never travels).")
@click.pass_obj
def revoke(cli: CliContext, record_id: str, reason: str, note: str | None) -> None:
    """Withdraw lesson ID, with all its versions and translations, from every node.

    Only the node where the lesson was written can revoke it, on behalf of its author, a
    steward or an admin. It is purged here at once; `rhizome serve` sends the revocation to
    every peer that got it, and `rhizome receipts ID` shows who has confirmed.
    """
    node, member = cli.acting_member()
    revoked = revoke_lesson(node, RevokeLesson(member, record_id, reason, note))
    count = len(revoked.record_ids)
    said = ngettext(
        "Revoked {title} ({count} record); purged here.",
        "Revoked {title} ({count} records); purged here.",
        count,
    )
    console.print(said.format(title=revoked.record.title, count=count), markup=False)
    told, waiting = run_with_client(node, tell_holders_now)
    said = ngettext(
        "Told {count} holder at once; {waiting} unreachable now will be told by the running "
        "node as soon as they are back. See `rhizome receipts ID`.",
        "Told {count} holders at once; {waiting} unreachable now will be told by the running "
        "node as soon as they are back. See `rhizome receipts ID`.",
        told,
    )
    console.print(said.format(count=told, waiting=waiting), markup=False)
    click.echo(revoked.revocation_id)


async def tell_holders_now(client: PeerClient) -> tuple[int, int]:
    """Push what waits in the outbox to every holder at once (the running node retries the
    ones that do not answer). Returns (told, still waiting)."""
    db = client.local.db
    peers = [p for p in (get_peer(db, node_id) for node_id in peers_with_outbox(db)) if p]
    results = await asyncio.gather(
        *(_tell(client, peer) for peer in peers if peer.status == "active")
    )
    return sum(results), len(peers) - sum(results)


async def _tell(client: PeerClient, peer: Peer) -> bool:
    try:
        async with asyncio.timeout(IMMEDIATE_DEADLINE):
            await push_outbox(client, peer, ExchangeReport())
    except (FederationError, TimeoutError):
        return False
    return True


@click.command()
@click.argument("record_id", metavar="ID")
@json_option
@click.pass_obj
def receipts(cli: CliContext, record_id: str, as_json: bool) -> None:
    """For a revoked lesson ID: every node that held it, purged (with a signed receipt) or
    pending."""
    node = cli.node()
    full_id = resolve_revoked_id(node.db, record_id)
    _revocation, holders = receipt_status(node.db, full_id)
    rows = [holder_json(node.db, holder) for holder in holders]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(_("No other node received this lesson."))
    for row in rows:
        when = row["at"] or "never seen"
        how = "direct" if row["direct"] else "via a peer"
        if row["status"] == "unconfirmed":
            how = "only named in another holder's receipt"
        tried = f", sent {row['attempts']}x, no receipt yet" if row["attempts"] else ""
        seen = f"; {row['evidence']}" if row["evidence"] else ""
        console.print(
            f"{row['status']:11} {row['name'] or short(str(row['node']))}  {when}  "
            f"({how}{tried}){seen}",
            markup=False,
        )
