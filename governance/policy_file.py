"""The node's sharing policy, ``policy.toml`` in the node home.

``init`` writes :data:`DEFAULT_POLICY`: default deny, nothing of high sensitivity leaves,
curator approvals scale with sensitivity. Every key is explained in the file itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DEFAULT_POLICY = """\
# Rhizome sharing policy. Nothing leaves this node unless the record's own consent AND this
# policy allow it for that peer; a matching deny always beats an allow.

[defaults]
# The most sensitive record any peer may receive: "low", "medium" or "high".
# High-sensitivity records never leave unless you raise a peer's ceiling below.
max_sensitivity = "medium"

[approvals]
# Distinct curators (never the author) who must approve a record before it leaves.
low = 0
medium = 1
high = 2

[inbound]
# Hold records received from peers for curator review before they show in list and search.
quarantine = false

# Per-peer rules, by node id or peer name, for example:
# [peers."Manila Hub"]
# max_sensitivity = "high"
# kinds_allow = ["case_study", "checklist"]
# tags_deny = ["legal"]
"""


def write_default_policy(path: Path) -> None:
    """Create ``path`` with the default policy; never overwrite an operator's policy."""
    with path.open("x", encoding="utf-8") as handle:
        handle.write(DEFAULT_POLICY)


def policy_hash(text: str) -> str:
    """The hash stored with every decision, naming the exact policy in force."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
