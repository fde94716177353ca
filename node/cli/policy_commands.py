"""``rhizome policy …``: check, show and explain the sharing policy, read the decision log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from federation.peers import list_peers, resolve_peer
from federation.sharing import Offer
from governance.decision_log import recent_decisions
from governance.policy_binding import (
    bind_policy,
    binding_warnings,
    confirm_bindings,
    forget_binding,
    read_bindings,
)
from governance.policy_file import Policy, PolicyError, load_policy, section_node_id
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json, short
from node.node import Node
from node.serialize import decision_json, explanation_json, iso_time


@click.group()
def policy() -> None:
    """Check, show and explain the sharing policy; read the decision log."""


@policy.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_obj
def check(cli: CliContext, file: Path | None, as_json: bool) -> None:
    """Check policy.toml (or FILE): syntax, keys, types, and which peer each section means.

    A [peers."NAME"] section is bound here, once, to the node id of the one peer of that
    name: compare the id shown with the one that hub gave you. Exits 1 if any section cannot
    be resolved safely (no such peer, several, or bound to another node).
    """
    node = cli.node()
    path = file or node.paths.policy
    notes: list[str] = []
    say = notes.append if as_json else lambda line: console.print(line, markup=False)
    try:
        checked = _check(node, path, say)
    except PolicyError as error:
        if not as_json:
            raise
        print_json({"path": str(path), "valid": False, "hash": None, "problems": [str(error)],
                    "notes": notes})  # fmt: skip
        sys.exit(1)
    if as_json:
        print_json({"path": str(path), "valid": True, "hash": checked.hash, "problems": [],
                    "notes": notes})  # fmt: skip
        return
    console.print(f"{path}: valid (policy hash {checked.hash[:16]})", markup=False)


def _check(node: Node, path: Path, say: Callable[[str], None]) -> Policy:
    checked = load_policy(path)
    peers = {p.node_id: p.name for p in list_peers(node.db)}
    bound = bind_policy(checked, peers, read_bindings(node.db))
    assert bound.binding is not None
    if confirmed := bound.binding.unconfirmed:
        confirm_bindings(node.db, node.identity, confirmed, node.now())
        for label, node_id in confirmed:
            say(
                f'Bound [peers."{label}"] to {peers[node_id]}, node {node_id}: compare this '
                "id with the one that hub gave you."
            )
        bound = bind_policy(checked, peers, read_bindings(node.db))
        assert bound.binding is not None
    for key, node_id in _named_ids(checked, read_bindings(node.db)).items():
        say(
            f'Tip: [peers."{key}"] means node {node_id}; a node id as the key is safest: '
            f'[peers."{node_id}"]'
        )
    if problems := binding_warnings(bound):
        raise PolicyError(f"{path}: " + "; ".join(problems))
    return checked


def _named_ids(checked: Policy, bindings: dict[str, str]) -> dict[str, str]:
    """Name-keyed sections → the node id each is bound to."""
    return {
        key: bindings[key.strip().casefold()]
        for key, _ in checked.peers
        if section_node_id(key) is None and key.strip().casefold() in bindings
    }


@policy.command()
@click.argument("name")
@click.pass_obj
def unbind(cli: CliContext, name: str) -> None:
    """Forget which node the section [peers."NAME"] means (the next check binds it anew)."""
    node = cli.node()
    if not forget_binding(node.db, node.identity, name, node.now()):
        raise PolicyError(f'[peers."{name}"] is not bound to any node')
    console.print(
        f'[peers."{name}"] is no longer bound: its peer gets nothing until '
        "`rhizome policy check` binds it again.",
        markup=False,
    )


@policy.command()
@json_option
@click.pass_obj
def show(cli: CliContext, as_json: bool) -> None:
    """Print the policy in force and its hash."""
    node = cli.node()
    in_force = node.policy()
    if as_json:
        text = node.paths.policy.read_text(encoding="utf-8")
        print_json({"path": str(node.paths.policy), "hash": in_force.hash, "text": text})
        return
    console.print(f"# {node.paths.policy}\n# policy hash {in_force.hash}\n", markup=False)
    console.print(node.paths.policy.read_text(encoding="utf-8"), markup=False)


@policy.command()
@click.argument("record_id", metavar="ID")
@click.argument("peer_ref", metavar="PEER")
@json_option
@click.pass_obj
def explain(cli: CliContext, record_id: str, peer_ref: str, as_json: bool) -> None:
    """Say whether record ID may go to PEER, and why, in words."""
    node = cli.node()
    full_id = node.resolve_id(record_id)
    peer = resolve_peer(node.db, peer_ref)
    sharing = Offer(node.db, node.node_id, node.policy(), node.now())
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
@json_option
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
