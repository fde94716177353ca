"""``rhizome policy …``: check, show and explain the sharing policy, read the decision log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from federation.blob_transfer import attachment_decisions
from federation.peers import resolve_peer
from federation.sharing import Offer
from governance.decision_log import recent_decisions
from governance.policy_file import PolicyError
from node.actions.policy import check_policy, unbind_section
from node.attachment_words import attachment_json, attachment_lines
from node.cli.context import CliContext
from node.cli.output import console, json_option, print_json, short
from node.i18n import gettext as _
from node.reason_words import say_reason
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
    try:
        found = check_policy(node, path)
    except PolicyError as error:
        if not as_json:
            raise
        _print_check(path, None, [str(error)], [])
        sys.exit(1)
    notes = [
        f'Bound [peers."{b.section}"] to {b.peer_name}, node {b.node_id}: compare this id with '
        "the one that hub gave you."
        for b in found.bound_now
    ] + [
        f'Tip: [peers."{key}"] means node {node_id}; a node id as the key is safest: '
        f'[peers."{node_id}"]'
        for key, node_id in found.named.items()
    ]
    problems = [f"{path}: " + "; ".join(found.problems)] if found.problems else []
    if as_json:
        _print_check(path, None if problems else found.policy.hash, problems, notes)
        if problems:
            sys.exit(1)
        return
    for line in notes:
        console.print(line, markup=False)
    if problems:
        raise PolicyError(problems[0])
    valid = _("{path}: valid (policy hash {hash})").format(path=path, hash=found.policy.hash[:16])
    console.print(valid, markup=False)


def _print_check(
    path: Path, policy_hash: str | None, problems: list[str], notes: list[str]
) -> None:
    print_json({"path": str(path), "valid": not problems, "hash": policy_hash,
                "problems": problems, "notes": notes})  # fmt: skip


@policy.command()
@click.argument("name")
@click.pass_obj
def unbind(cli: CliContext, name: str) -> None:
    """Forget which node the section [peers."NAME"] means (the next check binds it anew)."""
    unbind_section(cli.node(), name)
    unbound = _(
        '[peers."{name}"] is no longer bound: its peer gets nothing until '
        "`rhizome policy check` binds it again."
    )
    console.print(unbound.format(name=name), markup=False)


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
    hashed = _("policy hash {hash}").format(hash=in_force.hash)
    console.print(f"# {node.paths.policy}\n# {hashed}\n", markup=False)
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
    attachments = attachment_decisions(node.db, full_id, node.now())
    if as_json:
        answer = explanation_json(full_id, peer, decision)
        answer["attachments"] = [attachment_json(item, decision.allowed) for item in attachments]
        print_json(answer)
        return
    said = _("ALLOW: {id} to {peer}") if decision.allowed else _("DENY: {id} to {peer}")
    console.print(said.format(id=short(full_id), peer=peer.name), markup=False)
    for reason in decision.reasons:
        mark = "+" if reason.allows else "-"
        console.print(f"  {mark} {say_reason(reason)}  [{reason.code}]", markup=False)
    hashed = _("policy hash {hash}").format(hash=decision.policy_hash[:16])
    console.print(f"  ({hashed})", markup=False)
    for line in attachment_lines(attachments, decision.allowed):
        console.print(line, markup=False)


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
        console.print(_("No sharing decisions logged yet."))
    for entry in entries:
        verdict = "allow" if entry.allowed else "deny"
        peer = _("peer {id}").format(id=entry.peer_id[:7])
        console.print(
            f"{iso_time(entry.at)}  {entry.direction:8} {verdict:5} {short(entry.record_id)} "
            f"{peer}  {', '.join(entry.reasons)}",
            markup=False,
        )
