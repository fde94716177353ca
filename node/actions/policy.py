"""Policy actions: check a policy file and bind its name-keyed peer sections, or unbind one.

A ``[peers."NAME"]`` section is bound once, when an operator checks the policy, to the node
id of the one peer of that name (:mod:`governance.policy_binding`); a peer that renames
itself later cannot slip into another's section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from federation.peers import list_peers
from governance.policy_binding import (
    bind_policy,
    binding_warnings,
    confirm_bindings,
    forget_binding,
    read_bindings,
)
from governance.policy_file import Policy, PolicyError, load_policy, section_node_id
from node.node import Node


@dataclass(frozen=True)
class Binding:
    section: str  # the name as the policy file spells it
    node_id: str
    peer_name: str


@dataclass
class PolicyCheck:
    """What checking a policy found; ``problems`` empty means it is valid."""

    policy: Policy
    bound_now: list[Binding] = field(default_factory=list)  # compare each id with the hub's
    named: dict[str, str] = field(default_factory=dict)  # name-keyed section → its node id
    problems: list[str] = field(default_factory=list)


def check_policy(node: Node, path: Path) -> PolicyCheck:
    """Check ``path`` (syntax, keys, types: :class:`PolicyError`) and bind the name-keyed
    peer sections that are not bound yet; sections that cannot be resolved safely (no such
    peer, several, bound to another node) are the check's problems."""
    checked = load_policy(path)
    peers = {p.node_id: p.name for p in list_peers(node.db)}
    bound = bind_policy(checked, peers, read_bindings(node.db))
    assert bound.binding is not None
    result = PolicyCheck(checked)
    if confirmed := bound.binding.unconfirmed:
        confirm_bindings(node.db, node.identity, confirmed, node.now())
        result.bound_now = [Binding(label, node_id, peers[node_id]) for label, node_id in confirmed]
        bound = bind_policy(checked, peers, read_bindings(node.db))
        assert bound.binding is not None
    result.named = _named_ids(checked, read_bindings(node.db))
    result.problems = list(binding_warnings(bound))
    return result


def _named_ids(checked: Policy, bindings: dict[str, str]) -> dict[str, str]:
    """Name-keyed sections → the node id each is bound to."""
    return {
        key: bindings[key.strip().casefold()]
        for key, _ in checked.peers
        if section_node_id(key) is None and key.strip().casefold() in bindings
    }


def unbind_section(node: Node, name: str) -> None:
    """Forget which node ``[peers."NAME"]`` means: its peer gets nothing until the next check
    binds it again."""
    if not forget_binding(node.db, node.identity, name, node.now()):
        raise PolicyError(f'[peers."{name}"] is not bound to any node')
