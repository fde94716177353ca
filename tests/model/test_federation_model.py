"""A stateful model of a small federation: three real nodes and whatever their people do.

Hypothesis draws a sequence of steps (a member adds a lesson with some consent, writes a new
version that narrows or widens it, translates a lesson the node holds, a curator approves,
two hubs pair, sync, carry a bundle, the origin revokes, an operator backs a home up and
later restores it, a node crashes between steps or in the middle of an exchange, a node
restarts) and after every step checks the invariants of ARCHITECTURE.md on every node
that is up (tests/model/invariants.py):

1. nothing left a node without an allowing, logged decision for that peer;
2. a tombstone beats every copy: a node that ever held a tombstone holds nothing it
   withdraws, by any path, and an exchange with the origin leaves the holder nothing the
   origin revoked;
3. the origin's receipts are true: a holder shown "purged" holds nothing of the record;
4. purge means gone: no word of a withdrawn lesson's text is left in any file of a home
   that holds its tombstone (database, write-ahead log, search index);

and consent: a local or unconsented record never exists away from its origin, no record
reaches a node its effective consent excludes (the narrowest along its version chain, the
original's for a translation; tests/model/consent_model.py), none leaves without the
curator approvals the policy asks for.

Everything is real: homes on disk, ``node.node.Node`` objects, aiohttp servers on 127.0.0.1,
pairing, sync, bundles and revocation through the functions the CLI and server use
(tests/model/federation_driver.py); nothing of ours is replaced.

What "crash" means here: the node dies between two steps as under ``kill -9``. Between two
steps no request is in flight and no transaction is open, so a killed process would leave on
disk exactly the files as they are at that moment: the database, a write-ahead log that was
never checkpointed, its shared-memory index. The driver copies those bytes, lets the
in-process server go, and writes the copy back over anything the shutdown changed; all
memory (replay memory, caches, sessions) is gone, and the next start must recover from the
log like a real restart after a kill. It is faithful because SQLite in WAL mode keeps
committed transactions in those files (the OS holds them even if never fsynced, and a
process kill is not a power cut). It is deterministic and costs milliseconds, where a process
per node would cost a second per start; it does not cover a kill in the middle of a write
(tests/faults kills real subprocesses at random statements for that). A second rule kills
the node that started an exchange just before one of its requests (after a withdrawal was
taken but before its receipt went back, after a batch was stored but before the next fetch,
…), and its supervisor restarts it at once.

Budget: 40 runs of 25 steps (15 to 30 s on two busy cores); RHIZOME_MODEL_EXAMPLES and
RHIZOME_MODEL_STEPS change it. Reproducing a failure: the runs are derandomized, so the same
code draws the same steps, and the failing run is printed as a program (state.add_lesson(…),
state.sync(…), …); running the test again repeats it. It is printed as drawn, not shrunk
(shrinking real nodes takes minutes): add RHIZOME_MODEL_SHRINK=1 and ``--timeout=0`` to
shrink it. RHIZOME_MODEL_RANDOM=1 searches runs CI does not (then the printed
``@reproduce_failure`` blob replays one). test_model_replays.py shows how to drive the
machine by hand to turn a run into a plain regression test.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import suppress
from typing import TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from crypto.errors import RhizomeError
from tests.model.invariants import binding_tombstones, note
from tests.model.machine import FederationMachine
from tests.model.memory import Backup, Bundle, ModelRevocation
from tests.model.strategies import PICK, Draft, curators, drafts

T = TypeVar("T")

settings.register_profile(
    "federation-model",
    max_examples=int(os.environ.get("RHIZOME_MODEL_EXAMPLES", "40")),
    stateful_step_count=int(os.environ.get("RHIZOME_MODEL_STEPS", "25")),
    deadline=None,
    derandomize=not os.environ.get("RHIZOME_MODEL_RANDOM"),
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # Shrinking real nodes can take minutes (see the module docstring).
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    + ([Phase.shrink] if os.environ.get("RHIZOME_MODEL_SHRINK") else []),
)


class FederationModel(FederationMachine):
    # -- what members and curators do --------------------------------------------------------

    @initialize(first=drafts(), second=drafts())
    def start(self, first: Draft, second: Draft) -> None:
        """A line of peers, A - B - C (A and C may pair later), A and B hold a lesson each."""
        self.fed.pair("A", "B")
        self.fed.pair("B", "C")
        for node, draft in zip("AB", (first, second), strict=True):
            self.keep(self.fed.add(node, self.lesson(node, draft)))
        self.check()

    @precondition(lambda self: self.up())
    @rule(draft=drafts())
    def add_lesson(self, draft: Draft) -> None:
        self.begin()
        node = _choose(self.up(), draft.pick)
        self.keep(self.fed.add(node, self.lesson(node, draft)))

    @precondition(lambda self: self.latest_own())
    @rule(draft=drafts())
    def new_version(self, draft: Draft) -> None:
        """The origin's admin supersedes the latest version of one of its lessons, narrowing
        or widening its consent and sensitivity."""
        self.begin()
        node, record_id = _choose(self.latest_own(), draft.pick)
        previous = self.memory.records[record_id]
        links = {"supersedes": bytes.fromhex(previous.id)}
        if previous.translation_of:
            links["translation_of"] = bytes.fromhex(previous.translation_of)
        with suppress(RhizomeError):  # refused (e.g. widening without approvals): nothing stored
            self.keep(self.fed.add(node, self.lesson(node, draft, **links)))

    @precondition(lambda self: self.held_anywhere())
    @rule(draft=drafts())
    def translate(self, draft: Draft) -> None:
        """A member translates a lesson the node holds, whatever its origin."""
        self.begin()
        node, record_id = _choose(self.held_anywhere(), draft.pick)
        original = self.fed.record(node, record_id).lesson
        # As the web form does: the original's text pre-filled, another language, the
        # member's own consent (which the node must not let be wider than the original's).
        lesson = self.lesson(
            node, draft, title=original.title, body=original.body, language="pt",
            sensitivity=original.sensitivity, translation_of=bytes.fromhex(record_id),
        )  # fmt: skip
        with suppress(RhizomeError):  # refused (e.g. wider than the original): nothing stored
            self.keep(self.fed.add(node, lesson))

    @precondition(lambda self: self.held_anywhere())
    @rule(choice=st.tuples(PICK, curators))
    def approve(self, choice: tuple[int, str]) -> None:
        self.begin()
        pick, curator = choice
        node, record_id = _choose(self.held_anywhere(), pick)
        self.fed.approve(node, record_id, curator)

    @precondition(lambda self: self.waiting())
    @rule(pick=PICK)
    def review(self, pick: int) -> None:
        """A curator accepts (even pick) or rejects (odd) a record waiting in quarantine."""
        self.begin()
        node, record_id = _choose(self.waiting(), pick)
        self.fed.review(node, record_id, accept=pick % 2 == 0)
        note("reviewed")

    @precondition(lambda self: self.own_held())
    @rule(pick=PICK)
    def revoke(self, pick: int) -> None:
        """The origin withdraws one of its lessons (with its versions and translations),
        one that other nodes hold if there is one (that is where withdrawal is tested)."""
        self.begin()
        node, record_id = _choose(self.shared_own() or self.own_held(), pick)
        withdrawn = self.fed.revoke(node, record_id)
        self.memory.revocations.append(ModelRevocation(node, withdrawn, self.step))
        note("revoked")

    @precondition(lambda self: self.up() and self.expiring())
    @rule()
    def housekeeping(self) -> None:
        """Each node that is up withdraws, by itself, what its consent let expire."""
        self.begin()
        for node in self.up():
            for revocation in self.fed.revoke_expired(node):
                self.memory.revocations.append(
                    ModelRevocation(node, revocation.record_ids, self.step)
                )
                note("expired and withdrawn")

    # -- what hubs do together ------------------------------------------------------------------

    @precondition(lambda self: self.unpaired())
    @rule(pick=PICK)
    def pair(self, pick: int) -> None:
        self.begin()
        inviter, joiner = _choose(self.unpaired(), pick)
        self.fed.pair(inviter, joiner)

    @precondition(lambda self: self.links())
    @rule(pick=PICK)
    def sync(self, pick: int) -> None:
        """One exchange, started by a node that is up (its peer may be down)."""
        self.begin()
        self.sync_pair(*_choose(self.links(), pick))

    @precondition(lambda self: self.links())
    @rule()
    def sync_round(self) -> None:
        """What background sync does for a while: every node that is up syncs with each of
        its peers in turn; the invariants are checked after each exchange."""
        for initiator, other in self.links():
            if self.fed.up(initiator):
                self.begin()
                self.sync_pair(initiator, other)
                self.check()

    def sync_pair(self, initiator: str, other: str) -> None:
        self.arrivals.sync = (initiator, other)
        report = self.fed.sync(initiator, other)
        if report.errors:  # "http://127.0.0.1:PORT: nothing answers…": the port varies
            note("sync failed: " + report.errors[0].split(": ", 1)[-1][:40])
        else:
            note("sync completed")
        if not report.errors:
            self.memory.exchanged[(initiator, other)] = self.step
            self.memory.exchanged[(other, initiator)] = self.step

    @precondition(lambda self: self.links())
    @rule(pick=PICK)
    def suspend_or_resume(self, pick: int) -> None:
        """An operator suspends a peer (nothing goes either way), or resumes it."""
        self.begin()
        node, other = _choose(self.links(), pick)
        status = self.memory.nodes[node].peers[other]
        self.fed.set_peer_status(node, other, "active" if status == "suspended" else "suspended")

    @precondition(lambda self: self.links())
    @rule(pick=PICK)
    def export_bundle(self, pick: int) -> None:
        self.begin()
        sender, recipient = _choose(self.links(), pick)
        data = self.fed.export_bundle(sender, recipient)
        knows = frozenset(self.fed.holdings(sender))
        approvals = frozenset(self.fed.approvals(sender))
        waiting = frozenset(self.fed.quarantined(sender))
        self.carried.append(Bundle(sender, recipient, data, knows, approvals, waiting))

    @precondition(lambda self: self.ready_bundles())
    @rule(pick=PICK)
    def import_bundle(self, pick: int) -> None:
        """A bundle made earlier (perhaps long ago) is imported by its recipient."""
        self.begin()
        bundle = _choose(self.ready_bundles(), pick)
        self.arrivals.bundle = bundle
        with suppress(RhizomeError):  # refused whole: nothing was stored
            self.fed.import_bundle(bundle.recipient, bundle.data)

    # -- what operators do and what happens to machines -------------------------------------

    @precondition(lambda self: self.up())
    @rule(pick=PICK)
    def back_up(self, pick: int) -> None:
        self.begin()
        node = _choose(self.up(), pick)
        path = self.fed.back_up(node)
        self.backups.append(Backup(node, path, self.memory.nodes[node].copy(), self.step))

    @precondition(lambda self: self.backups)
    @rule(pick=PICK)
    def restore(self, pick: int) -> None:
        self.begin()
        backup = _choose(self.backups, pick)
        self.fed.restore(backup.name, backup.path)
        self.memory.nodes[backup.name] = backup.memory.copy()
        self.memory.nodes[backup.name].restored_at = self.step
        self.assert_verifies(backup.name)
        note("restored")

    @precondition(lambda self: len(self.up()) > 1)
    @rule(pick=PICK)
    def crash(self, pick: int) -> None:
        self.begin()
        self.fed.crash(_choose(self.up(), pick))

    @precondition(lambda self: self.links())
    @rule(pick=PICK, requests=st.integers(min_value=1, max_value=4))
    def crash_during_sync(self, pick: int, requests: int) -> None:
        """A node dies in the middle of an exchange it started (before its ``requests``-th
        request) and its supervisor (systemd's Restart=on-failure) starts it again."""
        self.begin()
        initiator, other = _choose(self.links(), pick)
        self.arrivals.sync = (initiator, other)
        held = self.fed.sync_until_killed(initiator, other, requests)
        if held is not None:
            note("killed during a sync")
            self.fed.start(initiator)
            assert self.fed.holdings(initiator) == held, f"{initiator} lost records in a crash"
            self.assert_verifies(initiator)

    @precondition(lambda self: self.down())
    @rule(pick=PICK)
    def restart(self, pick: int) -> None:
        self.begin()
        node = _choose(self.down(), pick)
        self.fed.start(node)
        memory = self.memory.nodes[node]
        assert self.fed.holdings(node) == memory.held, f"{node} lost or gained records in a crash"
        tombstones = binding_tombstones(self.fed, node, self.memory)
        assert memory.tombstones <= tombstones, f"{node} lost a tombstone"
        self.assert_verifies(node)


def _choose(candidates: Sequence[T], pick: int) -> T:
    return candidates[pick % len(candidates)]


TestFederationModel = FederationModel.TestCase
TestFederationModel.settings = settings.get_profile("federation-model")
