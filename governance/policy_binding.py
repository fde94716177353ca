"""Per-peer policy sections follow node ids; a peer's name is only a label.

A peer chooses its own name when it pairs, so ``[peers."Manila Hub"]`` must never mean
"whoever calls itself Manila Hub". A section keyed by a node id means that node. A section
keyed by a name means the node the operator confirmed for it: ``rhizome policy check``
resolves each name to the one peer of that name, shows its node id and stores the binding
(``policy_bindings``). From then on the name is a label of that node id.

Resolution fails closed. A peer whose section cannot be resolved safely (a name no one
confirmed yet, several peers of one name, a name bound to another node, two sections for
one peer) is *blocked*: the outbound decision refuses it everything with the reason code
``policy_binding``, so it gets neither the section's rules meant for someone else nor the
wider defaults the section narrowed. Every such problem is shown to the operator by
``policy check`` (exit code 1), the web /policy page and a warning when the node starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import sqlite_utils

from archive.db import transaction
from archive.event_log import append_event
from crypto.signing import SigningIdentity
from governance.policy_file import PeerBinding, PeerRules, Policy, same_label, section_node_id


def bind_policy(policy: Policy, peers: Mapping[str, str], bindings: Mapping[str, str]) -> Policy:
    """``policy`` with its peer sections resolved to node ids.

    ``peers`` maps the node id of every peer we have (not removed) to its name;
    ``bindings`` maps a confirmed name (case-folded) to its node id.
    """
    rules: dict[str, PeerRules] = {}
    blocked: dict[str, str] = {}
    problems: list[str] = []
    unconfirmed: list[tuple[str, str]] = []
    claimed: dict[str, list[str]] = {}
    for key, section in policy.peers:
        node_id = (
            section_node_id(key)
            or (key if key in peers else None)
            or bindings.get(key.strip().casefold())
        )
        named = [peer for peer, name in peers.items() if same_label(key, name)]
        if node_id is not None:
            rules[node_id] = section
            claimed.setdefault(node_id, []).append(key)
            if node_id not in peers:
                problems.append(f'[peers."{key}"] names no peer of this node ({node_id})')
            elif node_id != key and section_node_id(key) is None and not same_label(
                key, peers[node_id]
            ):
                problems.append(
                    f'[peers."{key}"] is bound to node {node_id}, now named "{peers[node_id]}"'
                )
            for other in (peer for peer in named if peer != node_id):
                why = f'[peers."{key}"] is bound to node {node_id}, not to this peer of that name'
                blocked[other] = why
                problems.append(f"{why} ({other}): use node ids as section keys")
        elif not named:
            problems.append(f'[peers."{key}"] names no peer of this node')
        elif len(named) > 1:
            for peer in named:
                blocked[peer] = f'several peers are named "{key}": the section needs a node id'
            problems.append(f'several peers are named "{key}": use a node id as the section key')
        else:
            blocked[named[0]] = (
                f'[peers."{key}"] names this peer only by name, not yet confirmed: '
                "run `rhizome policy check`"
            )
            unconfirmed.append((key, named[0]))
    for node_id, keys in claimed.items():
        if len(keys) > 1:
            sections = " and ".join(f'[peers."{key}"]' for key in keys)
            blocked[node_id] = f"{sections} both mean this peer: keep one"
            problems.append(f"{sections} both mean node {node_id}: keep one")
    binding = PeerBinding(
        rules=tuple(rules.items()),
        blocked=tuple(blocked.items()),
        problems=tuple(problems),
        unconfirmed=tuple(unconfirmed),
    )
    return replace(policy, binding=binding)


def read_bindings(db: sqlite_utils.Database) -> dict[str, str]:
    """Confirmed name → node id (names case-folded)."""
    rows = db.execute("SELECT label, node_id FROM policy_bindings")
    return {str(label).strip().casefold(): str(node_id) for label, node_id in rows}


def confirm_bindings(
    db: sqlite_utils.Database,
    identity: SigningIdentity,
    pairs: tuple[tuple[str, str], ...],
    now: int,
) -> None:
    """Store the name → node id bindings the operator confirmed, and log each."""
    with transaction(db):
        for label, node_id in pairs:
            db.execute(
                "INSERT OR REPLACE INTO policy_bindings (label, node_id, bound_at) "
                "VALUES (?, ?, ?)",
                [label.strip(), node_id, now],
            )
            detail = {"label": label.strip(), "node": node_id}
            append_event(db, identity, "policy.bound", node_id, detail, now)


def forget_binding(
    db: sqlite_utils.Database, identity: SigningIdentity, label: str, now: int
) -> bool:
    """Drop a name's binding (so ``policy check`` can bind it anew); False if there was none."""
    with transaction(db):
        row = db.execute(
            "SELECT label, node_id FROM policy_bindings WHERE label = ?", [label.strip()]
        ).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM policy_bindings WHERE label = ?", [row[0]])
        detail = {"label": row[0], "node": row[1]}
        append_event(db, identity, "policy.unbound", row[1], detail, now)
    return True


def binding_warnings(policy: Policy) -> list[str]:
    """Everything about the peer sections the operator must see (serve, web, check)."""
    if policy.binding is None:
        return []
    waiting = [
        f'[peers."{label}"] names peer {node_id} only by name, not yet confirmed: that peer '
        "gets nothing until you run `rhizome policy check`"
        for label, node_id in policy.binding.unconfirmed
    ]
    return [*policy.binding.problems, *waiting]
