"""The node's sharing policy, ``policy.toml`` in the node home, read and checked.

``init`` writes :data:`DEFAULT_POLICY`: default deny, nothing of high sensitivity leaves,
curator approvals scale with sensitivity. :func:`parse_policy` checks every section, key
and type and names the file and line of the first problem, so a node refuses to start with
a policy it cannot read rather than guess. The reference is docs/reference/policy.md.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archive.record import RECORD_KINDS, SENSITIVITIES
from crypto.errors import InvalidNodeId, RhizomeError
from crypto.node_id import normalize_node_id

DEFAULT_POLICY = """\
# Rhizome sharing policy. Nothing leaves this node unless the record's own consent AND this
# policy allow it for that peer; a matching deny always beats an allow.
# Check your changes with `rhizome policy check`; `rhizome policy explain ID PEER` says why.

[defaults]
# The most sensitive record any peer may receive: "low", "medium" or "high".
# High-sensitivity records never leave unless you raise a peer's ceiling below.
max_sensitivity = "medium"
# Kinds and tags: an empty allow list allows all; a deny list always wins.
kinds_allow = []
kinds_deny = []
tags_allow = []
tags_deny = []
# Regions of peers we share with: empty allow list = every region.
regions_allow = []
regions_deny = []

[approvals]
# Distinct curators (never the author) who must approve a record before it leaves.
low = 0
medium = 1
high = 2

[inbound]
# Hold records received from peers for curator review before they show in list and search.
quarantine = false
# Kinds and tags we never take in.
kinds_deny = []
tags_deny = []

# Per-peer rules, by node id (best) or by peer name; keys left out follow [defaults]. A name
# applies only once `rhizome policy check` has bound it to that peer's node id. For example:
# [peers."Manila Hub"]
# max_sensitivity = "high"
# kinds_allow = ["case_study", "checklist"]
# tags_deny = ["legal"]
"""

_RULE_KEYS: Mapping[str, type] = {
    "max_sensitivity": str,
    "kinds_allow": list,
    "kinds_deny": list,
    "tags_allow": list,
    "tags_deny": list,
}
_SCHEMA: dict[str, Mapping[str, type]] = {
    "defaults": {**_RULE_KEYS, "regions_allow": list, "regions_deny": list},
    "approvals": {"low": int, "medium": int, "high": int},
    "inbound": {"quarantine": bool, "kinds_deny": list, "tags_deny": list},
}
MAX_APPROVALS = 10


class PolicyError(RhizomeError):
    """``policy.toml`` cannot be used: the message names the file, the line and the problem.

    Fix that line (``rhizome policy check`` re-checks it); the node will not start until then.
    """

    code = "invalid_policy"


@dataclass(frozen=True)
class PeerRules:
    """What a peer may receive under the policy (after per-peer overrides)."""

    max_sensitivity: str = "medium"
    kinds_allow: frozenset[str] = frozenset()
    kinds_deny: frozenset[str] = frozenset()
    tags_allow: frozenset[str] = frozenset()
    tags_deny: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PeerBinding:
    """The ``[peers."…"]`` sections resolved to node ids (governance.policy_binding).

    ``rules``: node id → its section. ``blocked``: node id → why its section cannot be
    resolved safely (that peer gets nothing until the operator fixes it). ``problems``: what
    the operator must fix, in words. ``unconfirmed``: (name, node id) that ``rhizome policy
    check`` will bind.
    """

    rules: tuple[tuple[str, PeerRules], ...] = ()
    blocked: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    unconfirmed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Policy:
    hash: str
    defaults: PeerRules = field(default_factory=PeerRules)
    regions_allow: frozenset[str] = frozenset()
    regions_deny: frozenset[str] = frozenset()
    approvals: tuple[tuple[str, int], ...] = (("low", 0), ("medium", 1), ("high", 2))
    quarantine: bool = False
    inbound_kinds_deny: frozenset[str] = frozenset()
    inbound_tags_deny: frozenset[str] = frozenset()
    peers: tuple[tuple[str, PeerRules], ...] = ()
    binding: PeerBinding | None = None  # set by governance.policy_binding.bind_policy

    def approvals_needed(self, sensitivity: str) -> int:
        return dict(self.approvals)[sensitivity]

    def rules_for(self, node_id: str, name: str) -> PeerRules:
        """The section bound to this peer's node id; else the defaults.

        A name never selects a section by itself: ``[peers."NAME"]`` applies once it is
        bound to a node id. A peer whose section cannot be resolved safely is refused by
        :meth:`binding_problem` (the decision denies it), never given the defaults.
        """
        if self.binding is not None:
            return dict(self.binding.rules).get(node_id, self.defaults)
        for key, rules in self.peers:
            if node_id in (key, section_node_id(key)):
                return rules
        return self.defaults

    def binding_problem(self, node_id: str, name: str) -> str | None:
        """Why this peer's policy section cannot be resolved safely, or None."""
        if self.binding is not None:
            return dict(self.binding.blocked).get(node_id)
        for key, _ in self.peers:
            if key != node_id and section_node_id(key) is None and same_label(key, name):
                return f'[peers."{key}"] names this peer only by name, not yet bound to its node id'
        return None

    @property
    def peer_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.peers)


def section_node_id(key: str) -> str | None:
    """The node id a ``[peers."…"]`` key names, or None if it is a name."""
    try:
        return normalize_node_id(key)
    except InvalidNodeId:
        return None


def same_label(key: str, name: str) -> bool:
    """Names compare without regard to case or outer spaces."""
    return key.strip().casefold() == name.strip().casefold()


def policy_hash(text: str) -> str:
    """The hash stored with every decision, naming the exact policy in force."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_default_policy(path: Path) -> None:
    """Create ``path`` with the default policy; never overwrite an operator's policy."""
    with path.open("x", encoding="utf-8") as handle:
        handle.write(DEFAULT_POLICY)


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise PolicyError(
            f"{path}: missing; restore it from a backup or copy the default"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"{path}: cannot read it ({error})") from error
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str) -> Policy:
    """Check and read a policy; raise :class:`PolicyError` as ``file:line: problem``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{source}:{_toml_error_line(error, text)}: {error}") from error
    where = _Locator(text, source)
    sections = {name: _section(data, name, where) for name in _SCHEMA}
    unknown = sorted(set(data) - set(_SCHEMA) - {"peers"})
    if unknown:
        raise PolicyError(f"{where.at(unknown[0])}: unknown section [{unknown[0]}]")
    defaults = _rules(sections["defaults"], PeerRules(), where, "defaults")
    approvals = sections["approvals"]
    return Policy(
        hash=policy_hash(text),
        defaults=defaults,
        regions_allow=_strings(sections["defaults"], "regions_allow"),
        regions_deny=_strings(sections["defaults"], "regions_deny"),
        approvals=tuple(
            (level, _approval_count(approvals, level, where)) for level in SENSITIVITIES
        ),
        quarantine=bool(sections["inbound"].get("quarantine", False)),
        inbound_kinds_deny=_kinds(sections["inbound"], "kinds_deny", where, "inbound"),
        inbound_tags_deny=_tags(sections["inbound"], "tags_deny"),
        peers=_peer_rules(data.get("peers", {}), defaults, where),
    )


def _toml_error_line(error: tomllib.TOMLDecodeError, text: str) -> int:
    found = re.search(r"line (\d+)", str(error))
    return int(found.group(1)) if found else max(1, len(text.splitlines()))


class _Locator:
    """Finds the line of a section or key, since tomllib keeps no positions."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def at(self, section: str, key: str | None = None) -> str:
        return f"{self.source}:{self._line(section, key)}"

    def _line(self, section: str, key: str | None) -> int:
        in_section = False
        header = re.compile(r"^\s*\[\s*(.+?)\s*\]\s*(#.*)?$")
        for number, line in enumerate(self.lines, start=1):
            match = header.match(line)
            if match:
                name = match.group(1).replace('"', "").replace("'", "").replace(" ", "")
                in_section = name == section.replace('"', "").replace(" ", "")
                if in_section and key is None:
                    return number
                continue
            if (
                in_section
                and key is not None
                and re.match(rf"^\s*\"?{re.escape(key)}\"?\s*=", line)
            ):
                return number
        return 1


def _section(data: dict[str, Any], name: str, where: _Locator) -> dict[str, Any]:
    content = data.get(name, {})
    if not isinstance(content, dict):
        raise PolicyError(f"{where.at(name)}: [{name}] must be a section")
    _check_keys(content, _SCHEMA[name], where, name)
    return content


def _check_keys(
    content: dict[str, Any], schema: Mapping[str, type], where: _Locator, section: str
) -> None:
    for key, value in content.items():
        expected = schema.get(key)
        if expected is None:
            known = ", ".join(schema)
            raise PolicyError(
                f"{where.at(section, key)}: unknown key '{key}' in [{section}] (known: {known})"
            )
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            noun = {str: "text", list: "a list", int: "a whole number", bool: "true or false"}[
                expected
            ]
            raise PolicyError(f"{where.at(section, key)}: '{key}' must be {noun}")
        items: Any = value  # isinstance with a runtime type narrows to object
        if expected is list and not all(isinstance(item, str) for item in items):
            raise PolicyError(f"{where.at(section, key)}: '{key}' must be a list of text")


def _strings(section: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(section.get(key, []))


def _tags(section: dict[str, Any], key: str) -> frozenset[str]:
    """Tags in lower case, as lessons store them: "Legal" in a policy matches "legal"."""
    return frozenset(tag.strip().lower() for tag in section.get(key, []))


def _kinds(section: dict[str, Any], key: str, where: _Locator, name: str) -> frozenset[str]:
    values = _strings(section, key)
    if unknown := sorted(values - set(RECORD_KINDS)):
        raise PolicyError(
            f"{where.at(name, key)}: unknown kind '{unknown[0]}' "
            f"(known: {', '.join(RECORD_KINDS)})"
        )
    return values


def _rules(section: dict[str, Any], base: PeerRules, where: _Locator, name: str) -> PeerRules:
    """Rules from a section; keys it leaves out keep ``base``'s values."""
    ceiling = section.get("max_sensitivity", base.max_sensitivity)
    if ceiling not in SENSITIVITIES:
        choices = ", ".join(SENSITIVITIES)
        raise PolicyError(
            f"{where.at(name, 'max_sensitivity')}: max_sensitivity must be one of {choices}"
        )
    overrides: dict[str, Any] = {"max_sensitivity": ceiling}
    for key in ("kinds_allow", "kinds_deny"):
        if key in section:
            overrides[key] = _kinds(section, key, where, name)
    for key in ("tags_allow", "tags_deny"):
        if key in section:
            overrides[key] = _tags(section, key)
    return replace(base, **overrides)


def _approval_count(section: dict[str, Any], level: str, where: _Locator) -> int:
    count = section.get(level, dict(Policy(hash="").approvals)[level])
    if not 0 <= count <= MAX_APPROVALS:
        raise PolicyError(
            f"{where.at('approvals', level)}: '{level}' must be from 0 to {MAX_APPROVALS}"
        )
    return int(count)


def _peer_rules(
    peers: Any, defaults: PeerRules, where: _Locator
) -> tuple[tuple[str, PeerRules], ...]:
    if not isinstance(peers, dict):
        raise PolicyError(f"{where.at('peers')}: [peers] must hold one section per peer")
    result = []
    for key, section in peers.items():
        name = f'peers."{key}"'
        if not isinstance(section, dict):
            raise PolicyError(f"{where.at(name)}: [{name}] must be a section")
        _check_keys(section, _RULE_KEYS, where, name)
        result.append((key, _rules(section, defaults, where, name)))
    return tuple(result)
