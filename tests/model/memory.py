"""What the model remembers between steps, beside what it reads from the nodes' databases.

A node's database can lose history in one honest way only: its operator restores an older
backup. So the model keeps, per node, what a backup takes along (:class:`NodeMemory`, copied
into each backup and brought back with it), and, for the whole federation, what a restore
cannot undo: every outbound decision a node ever logged (the record really left under it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from tests.model.consent_model import ModelRecord


@dataclass
class NodeMemory:
    """One node's state as of the end of the last step (what its disk held then)."""

    held: dict[str, str | None] = field(default_factory=dict)  # id -> received from
    tombstones: set[str] = field(default_factory=set)  # every id it ever held a tombstone for
    approvals: set[tuple[str, str]] = field(default_factory=set)  # (record id, curator)
    quarantined: set[str] = field(default_factory=set)  # waiting for a curator now
    rejected: set[str] = field(default_factory=set)  # every id a curator ever rejected here
    restored_at: int = -1  # step of the last restore from a backup
    peers: dict[str, str] = field(default_factory=dict)  # peer name -> active or suspended

    def copy(self) -> NodeMemory:
        return copy.deepcopy(self)


@dataclass(frozen=True)
class Backup:
    name: str
    path: Path
    memory: NodeMemory
    step: int


@dataclass(frozen=True)
class Bundle:
    """A bundle file on a stick: who made it for whom, and what its maker knew then."""

    sender: str
    recipient: str
    data: bytes
    sender_knows: frozenset[str]
    sender_approvals: frozenset[tuple[str, str]]
    sender_quarantined: frozenset[str]


@dataclass(frozen=True)
class ModelRevocation:
    origin: str  # node name
    record_ids: tuple[str, ...]
    step: int


@dataclass
class Arrivals:
    """How records could arrive in the current step: which node sent what knowing what.

    A sync's responder answers fetches before it takes the initiator's pushes, so it sent
    knowing only what it held before the step; the initiator pushes after it fetched. A
    bundle carries what its maker knew when it made it.
    """

    sync: tuple[str, str] | None = None  # (initiator, responder), if one ran this step
    bundle: Bundle | None = None


@dataclass
class FederationMemory:
    records: dict[str, ModelRecord] = field(default_factory=dict)
    nodes: dict[str, NodeMemory] = field(default_factory=dict)
    allowed_out: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    revocations: list[ModelRevocation] = field(default_factory=list)
    # (holder, origin) -> step of their last exchange that completed without error
    exchanged: dict[tuple[str, str], int] = field(default_factory=dict)
