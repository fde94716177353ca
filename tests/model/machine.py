"""The federation model's state, what its rules can act on, and the check after each step.

:class:`FederationMachine` holds the real nodes (:class:`~tests.model.federation_driver.
Federation`) and what the model remembers of them (:mod:`tests.model.memory`); the rules
live in test_federation_model.py. ``check`` is the invariant Hypothesis runs after every
step: it reads every node that is up and asserts every check of :mod:`tests.model.invariants`.
"""

from __future__ import annotations

from typing import Any

from hypothesis.stateful import RuleBasedStateMachine, invariant

from archive.record import Lesson
from archive.signed_record import SignedRecord
from crypto.node_id import public_key_from_node_id
from tests.conftest import FakeClock
from tests.integration.revocation_helpers import verify_problems
from tests.model.consent_model import CANARY, ModelRecord
from tests.model.federation_driver import Federation, node_id_of, region_of
from tests.model.invariants import (
    Now,
    consent_kept,
    decisions_logged,
    exchange_carries_tombstones,
    harvest_decisions,
    observe,
    purges_leave_nothing,
    read_now,
    receipts_true,
    rejected_stay_out,
    tombstones_win,
)
from tests.model.memory import Arrivals, Backup, Bundle, FederationMemory, NodeMemory
from tests.model.strategies import NAMES, Draft

MODEL_START = 1_800_000_000  # 2027-01-15: a fixed time, so record ids repeat run to run
STEP_SECONDS = 60


class FederationMachine(RuleBasedStateMachine):
    """Each rule picks among the things it can act on now (``pick`` modulo their number),
    and is enabled only when there is one, so no step is wasted."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(MODEL_START)
        self.fed = Federation(NAMES, self.clock)
        self.memory = FederationMemory(nodes={name: NodeMemory() for name in NAMES})
        self.step = 0
        self.arrivals = Arrivals()
        self.carried: list[Bundle] = []
        self.backups: list[Backup] = []

    def teardown(self) -> None:
        self.fed.close()

    def begin(self) -> None:
        self.step += 1
        self.clock.advance(STEP_SECONDS)
        self.arrivals = Arrivals()

    def keep(self, record: SignedRecord) -> None:
        self.memory.records[record.id_hex] = ModelRecord.of(record)

    def lesson(self, name: str, draft: Draft, **fields: Any) -> Lesson:
        """A lesson by ``name``'s admin with the draft's consent; ``fields`` override."""
        now = int(self.clock())
        values: dict[str, Any] = {
            "kind": "checklist", "title": f"Step {self.step} at {name}", "language": "en",
            "body": f"Drill {CANARY}{self.step}x{name}.\n", "region": region_of(name),
            "created": now,
            "origin": _key(name), "author": "admin", "sensitivity": draft.sensitivity,
            "consent": draft.consent(now, STEP_SECONDS),
        }  # fmt: skip
        return Lesson(**{**values, **fields})

    # -- what each rule can act on now (from the state observed after the last step) ---------

    def up(self) -> list[str]:
        return [name for name in NAMES if self.fed.up(name)]

    def down(self) -> list[str]:
        return [name for name in NAMES if not self.fed.up(name)]

    def held_anywhere(self) -> list[tuple[str, str]]:
        """(node, record id) of every record a node that is up holds."""
        return [(name, rid) for name in self.up() for rid in sorted(self.memory.nodes[name].held)]

    def own_held(self) -> list[tuple[str, str]]:
        return [(name, rid) for name, rid in self.held_anywhere() if self.origin(rid) == name]

    def shared_own(self) -> list[tuple[str, str]]:
        """Own lessons that another node held at the end of the last step."""
        nodes = self.memory.nodes
        return [
            (name, rid)
            for name, rid in self.own_held()
            if any(rid in memory.held for other, memory in nodes.items() if other != name)
        ]

    def latest_own(self) -> list[tuple[str, str]]:
        newer = {record.supersedes for record in self.memory.records.values()}
        return [(name, rid) for name, rid in self.own_held() if rid not in newer]

    def origin(self, record_id: str) -> str:
        return next(name for name in NAMES if _id(name) == self.memory.records[record_id].origin)

    def links(self) -> list[tuple[str, str]]:
        """(initiator, other) of every pair of peers whose initiator is up."""
        return [(a, b) for a in self.up() for b in sorted(self.memory.nodes[a].peers)]

    def unpaired(self) -> list[tuple[str, str]]:
        """Pairs of nodes that are up where one does not know the other (never paired, or
        one was restored from a backup older than their pairing)."""
        up, memory = self.up(), self.memory.nodes
        return [
            (a, b) for a in up for b in up
            if a < b and (b not in memory[a].peers or a not in memory[b].peers)
        ]  # fmt: skip

    def ready_bundles(self) -> list[Bundle]:
        return [bundle for bundle in self.carried if self.fed.up(bundle.recipient)]

    def waiting(self) -> list[tuple[str, str]]:
        return [(n, rid) for n in self.up() for rid in sorted(self.memory.nodes[n].quarantined)]

    def expiring(self) -> bool:
        return any(r.consent.expires is not None for r in self.memory.records.values())

    def assert_verifies(self, node: str) -> None:
        running = self.fed.slots[node].running
        assert running is not None
        problems = verify_problems(running)
        assert not problems, f"{node} does not verify: {problems}"

    # -- after every step ----------------------------------------------------------------------

    @invariant()
    def check(self) -> None:
        now: Now = read_now(self.fed, self.memory)
        memory = self.memory
        harvest_decisions(self.fed, memory, now)
        breaches = [
            *decisions_logged(self.fed, memory, now),
            *consent_kept(self.fed, memory, now, self.arrivals),
            *tombstones_win(memory, now),
            *receipts_true(self.fed, memory, now),
            *purges_leave_nothing(self.fed, memory, now),
            *rejected_stay_out(memory, now),
        ]
        if self.arrivals.sync is not None:
            breaches += exchange_carries_tombstones(memory, now, self.arrivals.sync, self.step)
        assert not breaches, "\n".join(breaches)
        observe(memory, now)


def _id(name: str) -> str:
    return node_id_of(name)


def _key(name: str) -> bytes:
    return public_key_from_node_id(node_id_of(name))
