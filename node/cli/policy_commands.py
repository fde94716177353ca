"""``rhizome policy …``: check, show and explain the sharing policy, read the decision log."""

from __future__ import annotations

from pathlib import Path

import click

from federation.peers import list_peers, resolve_peer
from federation.sharing import Sharing
from governance.decision_log import recent_decisions
from governance.policy_file import PolicyError, load_policy, unknown_peer_keys
from node.cli.context import CliContext
from node.cli.output import console, print_json, short
from node.serialize import decision_json, explanation_json, iso_time


@click.group()
def policy() -> None:
    """Check, show and explain the sharing policy; read the decision log."""


@policy.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def check(cli: CliContext, file: Path | None) -> None:
    """Check policy.toml (or FILE): syntax, keys, types and peer names, with file:line."""
    node = cli.node()
    path = file or node.paths.policy
    checked = load_policy(path)
    peers = {p.node_id: p.name for p in list_peers(node.db)}
    if unknown := unknown_peer_keys(checked, peers):
        raise PolicyError(f'{path}: [peers."{unknown[0]}"] names no peer of this node')
    console.print(f"{path}: valid (policy hash {checked.hash[:16]})", markup=False)


@policy.command()
@click.pass_obj
def show(cli: CliContext) -> None:
    """Print the policy in force and its hash."""
    node = cli.node()
    in_force = node.policy()
    console.print(f"# {node.paths.policy}\n# policy hash {in_force.hash}\n", markup=False)
    console.print(node.paths.policy.read_text(encoding="utf-8"), markup=False)


@policy.command()
@click.argument("record_id", metavar="ID")
@click.argument("peer_ref", metavar="PEER")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_obj
def explain(cli: CliContext, record_id: str, peer_ref: str, as_json: bool) -> None:
    """Say whether record ID may go to PEER, and why, in words."""
    node = cli.node()
    full_id = node.resolve_id(record_id)
    peer = resolve_peer(node.db, peer_ref)
    sharing = Sharing(node.db, node.node_id, node.policy(), node.now())
    decision = sharing.explain(full_id, peer)
    assert decision is not None  # resolve_id found it
    verdict = "allow" if decision.allowed else "deny"
    if as_json:
        print_json(explanation_json(full_id, peer, decision))
        return
    console.print(f"{verdict.upper()}: {short(full_id)} to {peer.name}", markup=False)
    for reason in decision.reasons:
        mark = "+" if reason.allows else "-"
        console.print(f"  {mark} {reason.text}  [{reason.code}]", markup=False)
    console.print(f"  (policy hash {decision.policy_hash[:16]})", markup=False)


@policy.command(name="log")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--record", "record_id", default=None, help="Only decisions about this record.")
@click.pass_obj
def log_(cli: CliContext, as_json: bool, limit: int, record_id: str | None) -> None:
    """The latest sharing decisions, newest first (ids and reasons, never content)."""
    node = cli.node()
    full_id = node.resolve_id(record_id) if record_id else None
    entries = recent_decisions(node.db, limit, full_id)
    if as_json:
        print_json([decision_json(entry) for entry in entries])
        return
    if not entries:
        console.print("No sharing decisions logged yet.")
    for entry in entries:
        verdict = "allow" if entry.allowed else "deny"
        console.print(
            f"{iso_time(entry.at)}  {entry.direction:8} {verdict:5} {short(entry.record_id)} "
            f"peer {entry.peer_id[:7]}  {', '.join(entry.reasons)}",
            markup=False,
        )
