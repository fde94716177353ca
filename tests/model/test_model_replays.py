"""Short runs of the federation model, driven by hand, one per promise issue 11 found broken.

Each is the shortest run after which the model's invariants caught the bug on the code
before its fix (commit d5fed43): they pin both the fix and the model's power to see it. The
breach each one raised there is quoted in its docstring.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.model.strategies import Draft
from tests.model.test_federation_model import FederationModel


def draft(scope: str = "federation", reshare: bool = False, pick: int = 0) -> Draft:
    return Draft(pick, "consent", scope, "", reshare, "", "low")


class Replay:
    """The model with the invariants checked after each step, as Hypothesis runs it."""

    def __init__(self, model: FederationModel) -> None:
        self.model = model

    def sync(self, initiator: str, other: str) -> None:
        self.model.sync(self.model.links().index((initiator, other)))
        self.model.check()

    def own_lesson_held_by(self, holder: str, origin: str) -> int:
        """The pick that names, at ``holder``, the first lesson written at ``origin``."""
        first = next(rid for name, rid in self.model.own_held() if name == origin)
        return self.model.held_anywhere().index((holder, first))

    def step(self, name: str, *args: object) -> None:
        getattr(self.model, name)(*args)
        self.model.check()


@pytest.fixture
def run() -> Iterator[Replay]:
    model = FederationModel()
    try:
        yield Replay(model)
    finally:
        model.teardown()


def test_a_superseded_version_never_leaves_under_wider_terms(run: Replay) -> None:
    """Item 2: "consent: … reached B from A: its newer version …: scope is local"."""
    run.model.start(draft(), draft())
    run.step("new_version", draft(scope="local"))
    run.sync("A", "B")


def test_a_widening_version_waits_for_a_curator(run: Replay) -> None:
    """Item 3: "approvals: … (low, widening) reached B from A with 0 of 1 curator
    approvals there"."""
    run.model.start(draft(), draft())
    run.step("new_version", draft(reshare=True))
    run.sync("A", "B")


def test_a_translation_goes_only_where_its_original_may(run: Replay) -> None:
    """Item 4: "consent: … reached C from B: its original … (it: reshare is false and the
    sender is not the origin)"."""
    run.model.start(draft(reshare=False), draft(scope="local"))
    run.sync("A", "B")
    run.step("translate", draft(reshare=True, pick=run.own_lesson_held_by("B", "A")))
    run.sync("B", "C")


def test_a_translation_is_withdrawn_with_its_original(run: Replay) -> None:
    """Item 4: "(2) A holds … although it holds a tombstone that withdraws it" (B's
    translation reached the origin after the withdrawal)."""
    run.model.start(draft(reshare=True), draft(scope="local"))
    run.sync("A", "B")
    run.step("translate", draft(pick=run.own_lesson_held_by("B", "A")))
    run.step("revoke", 0)
    run.sync("A", "B")


def test_a_holder_restored_from_an_old_backup_purges_at_its_next_exchange(run: Replay) -> None:
    """Item 8: "(3) A's receipts say B purged …, but B holds …"."""
    run.model.start(draft(), draft(scope="local"))
    run.sync("A", "B")
    run.step("back_up", run.model.up().index("B"))
    run.step("revoke", 0)
    run.sync("A", "B")
    run.step("restore", 0)
    run.sync("A", "B")
    run.sync("B", "A")


def test_a_stale_bundle_brings_back_no_translation_of_a_translation(run: Replay) -> None:
    """Item 4: "(2) A holds … although it holds a tombstone that withdraws it": the origin
    refused B's translation T1 of its withdrawn lesson but stored T2, B's translation of
    T1, from a bundle B made before it heard of the withdrawal (the check looked one link
    up, and A never held T1). Caught on the code before commit 24a59d7."""
    m = run.model
    m.start(draft(reshare=True), draft(scope="local", reshare=True))
    run.sync("A", "B")
    lesson = next(rid for name, rid in m.own_held() if name == "A")
    run.step("revoke", m.shared_own().index(("A", lesson)))
    run.step("translate", draft(reshare=True, pick=m.held_anywhere().index(("B", lesson))))
    first = next(r for r, x in m.memory.records.items() if x.translation_of == lesson)
    run.step("translate", draft(reshare=True, pick=m.held_anywhere().index(("B", first))))
    run.step("export_bundle", m.links().index(("B", "A")))
    run.sync("A", "B")
    run.step("import_bundle", 0)


def test_withdrawing_a_translation_names_no_record_of_another_origin(run: Replay) -> None:
    """Item 4: "(2) B still holds … after an exchange with its origin A, which revoked
    it": A translated v2 of B's lesson (v1 never left B); A's withdrawal of the translation
    also named B's v1 (the lineage walk went up to a record A never held), so B refused
    the whole withdrawal (and struck A) and kept the translation. Caught on the code
    before commit 24a59d7."""
    m = run.model
    m.start(draft(scope="local", reshare=True), draft(scope="local", reshare=True))
    first = next(rid for name, rid in m.own_held() if name == "B")
    run.step("new_version", draft(reshare=True, pick=m.latest_own().index(("B", first))))
    second = next(r for r, x in m.memory.records.items() if x.supersedes == first)
    run.step("approve", (m.held_anywhere().index(("B", second)), "ana"))  # a widening
    run.sync("B", "A")
    run.step("translate", draft(reshare=True, pick=m.held_anywhere().index(("A", second))))
    translation = next(r for r, x in m.memory.records.items() if x.translation_of == second)
    run.sync("A", "B")
    run.step("revoke", m.shared_own().index(("A", translation)))
    run.sync("A", "B")
