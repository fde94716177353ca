"""What the model draws: consent blocks and sensitivities, with short printable names.

Hypothesis prints a failing run as a program; a :class:`Draft` prints as one line
(``Draft(pick=3, basis='consent', scope='peers', peers='B', reshare=False,
subjects='s+ w-', sensitivity='low')``) instead of a page of nested dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from archive.record import Consent, Subject
from tests.model.federation_driver import CURATORS, node_id_of

NAMES = ("A", "B", "C")
PICK = st.integers(min_value=0, max_value=1_000)
curators = st.sampled_from(CURATORS)


@dataclass(frozen=True)
class Draft:
    """What a member writes: a pick (which node or lesson), a consent and a sensitivity.

    ``peers`` names model nodes ("AC"); ``subjects`` gives each participant as ``s`` (agreed
    to share) or ``-`` (did not), then ``+`` or ``w`` (withdrawn)."""

    pick: int
    basis: str
    scope: str
    peers: str
    reshare: bool
    subjects: str
    sensitivity: str

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """One line in Hypothesis's printout of a failing run."""
        printer.text(repr(self))

    @property
    def consent(self) -> Consent:
        return Consent(
            basis=self.basis,
            scope=self.scope,
            peers=tuple(node_id_of(name) for name in self.peers),
            reshare=self.reshare,
            subjects=tuple(
                Subject(f"p{n}", share=code[0] == "s", withdrawn=code[1] == "w")
                for n, code in enumerate(self.subjects.split())
            ),
        )


@st.composite
def drafts(draw: st.DrawFn) -> Draft:
    """Any consent a member could give: every scope, named peers, reshare, participants,
    now and then a basis that is not an established consent, and every sensitivity."""
    # Weighted towards what may leave (repeats), so that records travel in most runs; the
    # first choice of each is what a failing run shrinks to.
    subject = st.sampled_from(("s+", "s+", "s+", "-+", "sw", "-w"))
    return Draft(
        pick=draw(PICK),
        basis=draw(st.sampled_from(("consent",) * 6 + ("notice", "none"))),
        scope=draw(st.sampled_from(("federation", "federation", "peers", "public", "local"))),
        peers="".join(draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))),
        reshare=draw(st.booleans()),
        subjects=" ".join(draw(st.lists(subject, max_size=2))),
        sensitivity=draw(st.sampled_from(("low", "low", "medium", "high"))),
    )
