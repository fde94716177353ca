"""``rhizome key``: the node key's history, rotation and recovery (issue 15)."""

from __future__ import annotations

import datetime as dt
import io
import sys

import click
import segno

from archive.key_store import fork_of, load_key_history
from crypto.errors import RhizomeError
from crypto.key_statements import InvalidKeyStatement
from crypto.node_id import node_id_from_public_key
from crypto.recovery_code import (
    MAX_SHARES,
    join_recovery_shares,
    recovery_code,
    recovery_key_from_code,
    split_recovery_key,
)
from crypto.signing import SigningIdentity
from federation.client import PeerClient
from federation.key_exchange import exchange_key_history
from federation.peers import list_peers, resolve_peer
from node.cli.context import CliContext
from node.cli.network import run_with_client
from node.cli.output import console, err_console, json_option, print_json
from node.cli.recover_fresh import recover_fresh, recovery_key_asked
from node.i18n import gettext as _
from node.keys import KeyChange, own_key_history, recover_node_key, rotate_node_key
from node.keys import statement_summary as summary
from node.node import Node
from node.serialize import iso_time


@click.group()
def key() -> None:
    """The node key: its history, rotation and recovery."""


@key.command()
@click.option(
    "--tell-peers/--no-tell-peers",
    default=True,
    show_default=True,
    help="Hand the new key history to every active peer now.",
)
@click.option(
    "--recovery-shares",
    "shares",
    default=None,
    metavar="K-of-N",
    help="If a recovery key is made now, split it among stewards (e.g. 2-of-3).",
)
@json_option
@click.pass_obj
def rotate(cli: CliContext, tell_peers: bool, shares: str | None, as_json: bool) -> None:
    """Make a new node key, signed over by the current one; the old key is destroyed.

    Peers learn it at the next sync (or now, with --tell-peers). Records signed before
    keep their signatures. The node id stays the same."""
    node, _member = cli.acting("member.manage")
    change = rotate_node_key(node)
    told = _tell_peers(node) if tell_peers else {}
    if as_json:
        print_json({**_change_json(node, change), "peers": told})
        return
    now = _key(change.statement.key)
    console.print(_("Rotated: the node key is now {key}").format(key=now), markup=False)
    retired = _("Retired: {key} (its file was overwritten)").format(key=_key(change.previous_key))
    console.print(retired, markup=False)
    show_recovery_key(change.new_recovery, shares)
    _print_told(told)


@key.command()
@click.argument("peer", required=False)
@json_option
@click.pass_obj
def history(cli: CliContext, peer: str | None, as_json: bool) -> None:
    """Show this node's key history (or PEER's, as we verified it): every statement, the
    current key, overridden rotations and any fork."""
    node = cli.node()
    node_id = node.node_id if peer is None else resolve_peer(node.db, peer, True).node_id
    found = load_key_history(node.db, node_id, node.now())
    fork = fork_of(node.db, node_id)
    report = {
        "node_id": node_id,
        "current_key": _key(found.current_key),
        "recovery_key": _key(found.recovery_key) if found.recovery_key else None,
        "statements": [summary(s) for s in found.chain],
        "overridden": [summary(s) for s in found.overridden],
        "fork": [summary(s) for s in found.fork] if found.fork else None,
        "fork_found_at": fork[2] if fork else None,
    }
    if as_json:
        print_json(report)
        return
    labels = (_("Node id:"), _("Current key:"))
    width = max(len(label) for label in labels) + 2  # the values line up
    console.print(f"{labels[0]:<{width}}{node_id}", markup=False)
    console.print(f"{labels[1]:<{width}}{report['current_key']}", markup=False)
    if not found.chain:
        console.print(
            _("No key statements: the node still signs with its first key."), markup=False
        )
    for statement in found.chain:
        _print_statement(summary(statement), "")
    for statement in found.overridden:
        _print_statement(summary(statement), _("OVERRIDDEN by a recovery: "))
    if found.fork:
        console.print(
            _("FORK: two statements follow one; both are kept as evidence:"), markup=False
        )
        for statement in found.fork:
            _print_statement(summary(statement), "  " + _("fork: "))


@key.command()
@click.option("--code", default=None, help="The recovery code printed at init.")
@click.option("--share", "shares", multiple=True, help="A steward's share (repeat, k of them).")
@click.option(
    "--compromised-since",
    default=None,
    metavar="TIME",
    help="When the node key may have been taken (ISO 8601, e.g. 2026-12-01T18:00Z): "
    "what it signed from then on becomes suspect at every peer.",
)
@click.option(
    "--after",
    default=None,
    metavar="STATEMENT",
    help="Recover after this statement (id prefix, see `key history`) instead of "
    "the last one signed before --compromised-since.",
)
@click.option(
    "--new-recovery-key",
    is_flag=True,
    help="Also replace the recovery key (when the paper or shares may be exposed).",
)
@click.option("--tell-peers/--no-tell-peers", default=True, show_default=True)
@click.option(
    "--node-id",
    default=None,
    help="No backup at all: the node id to recover into a new, empty --home (with --peer).",
)
@click.option(
    "--peer",
    "peers",
    multiple=True,
    metavar="NODE_ID@URL",
    help="With --node-id: a peer to recover from (its node id and address, or an invite code "
    "it made); repeat for each peer you know.",
)
@click.option("--url", default=None, help="With --node-id: the address peers reach the hub at.")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="With --node-id.")
@json_option
@click.pass_obj
def recover(
    cli: CliContext, code: str | None, shares: tuple[str, ...], compromised_since: str | None,
    after: str | None, new_recovery_key: bool, tell_peers: bool, node_id: str | None,
    peers: tuple[str, ...], url: str | None, port: int | None, as_json: bool,
) -> None:  # fmt: skip
    """Take the node back with its recovery key: a new node key that overrides rotations a
    thief signed with the stolen key (within 72 hours of peers seeing them).

    Run it in this home, restored from your backup if the machine was seized. First it asks
    every peer what it knows of this node's key history (a thief's rotations too), then it
    signs the recovery and hands it to every peer.

    With no backup at all, give --node-id and one --peer per peer you know, and a new --home:
    the identity and the pairings come back from the peers, then the lessons they hold."""
    if node_id is not None:
        since_fresh = parse_time(compromised_since) if compromised_since else None
        done = recover_fresh(
            cli, node_id=node_id, recovery=recovery_key_asked(code, shares), peer_texts=peers,
            compromised_since=since_fresh, new_recovery_key=new_recovery_key, url=url, port=port,
            as_json=as_json,
        )  # fmt: skip
        show_recovery_key(done.new_recovery, None)
        return
    if peers or url or port:
        raise click.UsageError(_("--peer, --url and --port go with --node-id (no backup at all)"))
    if bool(code) == bool(shares):
        raise click.UsageError(
            _("give the recovery code (--code) or the stewards' shares (--share)")
        )
    recovery = recovery_key_from_code(code) if code else join_recovery_shares(list(shares))
    since = parse_time(compromised_since) if compromised_since else None
    node, _member = cli.acting("member.manage")
    learned = _tell_peers(node) if tell_peers else {}  # learn what peers hold of us first
    change = recover_node_key(
        node, recovery, compromised_since=since, after=after, new_recovery=new_recovery_key
    )
    told = _tell_peers(node) if tell_peers else {}
    if as_json:
        print_json({**_change_json(node, change), "asked": learned, "peers": told})
        return
    now = _key(change.statement.key)
    console.print(_("Recovered: the node key is now {key}").format(key=now), markup=False)
    console.print(_("Replaced: {key}").format(key=_key(change.previous_key)), markup=False)
    if since is not None:
        suspect = _("What it signed from {since} on is suspect at every peer.")
        console.print(suspect.format(since=iso_time(since)), markup=False)
    show_recovery_key(change.new_recovery, None)
    _print_told(told)


@key.command("recovery-shares")
@click.option("--code", required=True, help="The recovery code printed at init.")
@click.argument("split", metavar="K-of-N")
def recovery_shares(code: str, split: str) -> None:
    """Split the recovery code into N shares for stewards, any K of which give it back."""
    _print_shares(recovery_key_from_code(code), split)


def _tell_peers(node: Node) -> dict[str, str]:
    """Exchange key histories with every active peer; what happened, per peer name."""
    peers = [peer for peer in list_peers(node.db) if peer.status == "active"]

    async def work(client: PeerClient) -> dict[str, str]:
        told = {}
        for peer in peers:
            try:
                await exchange_key_history(client, peer)
                told[peer.name] = _("told")
            except RhizomeError as error:
                told[peer.name] = _("not reached ({error}); it learns at the next sync").format(
                    error=error
                )
        return told

    return run_with_client(node, work) if peers else {}


def show_recovery_key(recovery: SigningIdentity | None, shares: str | None) -> None:
    """Show a new recovery key once: a code with its QR code, or the stewards' shares."""
    if recovery is None:
        return
    err_console.print(
        _(
            "A recovery key was made now. It is NOT stored anywhere: print it or share it out, "
            "and keep it away from this machine."
        ),
        markup=False,
    )
    if shares:
        _print_shares(recovery, shares)
        return
    text = recovery_code(recovery)
    qr = io.StringIO()
    segno.make(text, error="m").terminal(out=qr, compact=True)
    sys.stdout.write(qr.getvalue())
    click.echo(_("Recovery code: {code}").format(code=text))


def parse_split(split: str) -> tuple[int, int]:
    """``K-of-N`` as two numbers, checked (2 <= K <= N <= 16)."""
    try:
        needed, total = (int(part) for part in split.lower().split("-of-"))
    except ValueError as error:
        raise click.BadParameter(
            _("{value}: write K-of-N, e.g. 2-of-3").format(value=repr(split))
        ) from error
    if not 2 <= needed <= total <= MAX_SHARES:
        raise click.BadParameter(
            _("{value}: need 2 <= K <= N <= {most}, e.g. 2-of-3").format(
                value=repr(split), most=MAX_SHARES
            )
        )
    return needed, total


def _print_shares(recovery: SigningIdentity, split: str) -> None:
    needed, total = parse_split(split)
    click.echo(
        _("Recovery shares ({needed} of {total} recover the node; one per steward):").format(
            needed=needed, total=total
        )
    )
    for share in split_recovery_key(recovery, needed, total):
        click.echo(share)


def _change_json(node: Node, change: KeyChange) -> dict[str, object]:
    found = own_key_history(node)
    return {
        "node_id": node.node_id,
        "current_key": _key(found.current_key),
        "previous_key": _key(change.previous_key),
        "statement": summary(change.statement),
        "recovery_code": recovery_code(change.new_recovery) if change.new_recovery else None,
    }


def _print_told(told: dict[str, str]) -> None:
    for name, outcome in told.items():
        console.print(f"  {name}: {outcome}", markup=False)


def _print_statement(item: dict[str, object], prefix: str) -> None:
    at = iso_time(int(str(item["at"])))
    said = _("#{seq} {kind} {id} at {at}: key {key} (signed by {signer})").format(
        seq=item["seq"],
        kind=item["kind"],
        id=str(item["id"])[:12],
        at=at,
        key=item["key"],
        signer=item["signed_by"],
    )
    console.print(f"{prefix}{said}", markup=False)
    for mark in item["suspect"] or []:  # type: ignore[attr-defined]
        suspect = _("suspect: {key} from {since}").format(
            key=mark["key"], since=iso_time(mark["since"])
        )
        console.print(f"    {suspect}", markup=False)


def _key(key: bytes) -> str:
    return node_id_from_public_key(key)


def parse_time(text: str) -> int:
    """An ISO 8601 time with its zone, as Unix seconds (for --since options)."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise click.BadParameter(
            _("{value}: write a time like 2026-12-01T18:00Z").format(value=repr(text))
        ) from error
    if moment.tzinfo is None:
        raise click.BadParameter(
            _("{value}: say the time zone, e.g. 2026-12-01T18:00Z").format(value=repr(text))
        )
    return int(moment.timestamp())


__all__ = ["InvalidKeyStatement", "key"]
