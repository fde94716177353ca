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
from tests.model.federation_driver import CURATORS, REGIONS, node_id_of

NAMES = ("A", "B", "C")
PICK = st.integers(min_value=0, max_value=1_000)
curators = st.sampled_from(CURATORS)


@dataclass(frozen=True)
class Draft:
    """What a member writes: a pick (which node or lesson), a consent and a sensitivity.

    ``peers`` names model nodes ("AC"); ``subjects`` gives each participant as ``s`` (agreed
    to share) or ``-`` (did not), then ``+`` or ``w`` (withdrawn); ``regions`` is ``+REGION``
    (allow only it) or ``-REGION`` (deny it); consent expires ``expires_in`` steps after the
    lesson is written (0: never)."""

    pick: int
    basis: str
    scope: str
    peers: str
    reshare: bool
    subjects: str
    sensitivity: str
    regions: str = ""
    expires_in: int = 0

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """One line in Hypothesis's printout of a failing run."""
        printer.text(repr(self))

    def consent(self, now: int, step_seconds: int) -> Consent:
        """The consent block as written at ``now``."""
        region = self.regions[1:]
        return Consent(
            basis=self.basis,
            regions_allow=(region,) if self.regions.startswith("+") else (),
            regions_deny=(region,) if self.regions.startswith("-") else (),
            expires=now + self.expires_in * step_seconds if self.expires_in else None,
            scope=self.scope,
            peers=tuple(node_id_of(name) for name in self.peers),
            reshare=self.reshare,
            subjects=tuple(
                Subject(f"p{n}", share=code[0] == "s", withdrawn=code[1] == "w")
                for n, code in enumerate(self.subjects.split())
            ),
        )


@st.composite
def open_drafts(draw: st.DrawFn) -> Draft:
    """A lesson its people let travel: the common case, so records move in most runs."""
    scope = draw(st.sampled_from(("federation", "public")))
    return Draft(draw(PICK), "consent", scope, "", draw(st.booleans()), "", "low")


@st.composite
def any_drafts(draw: st.DrawFn) -> Draft:
    """Any consent a member could give: every scope, named peers, reshare, participants,
    a basis that is not an established consent, regions, an expiry, every sensitivity."""
    subject = st.sampled_from(("s+", "s+", "-+", "sw", "-w"))
    return Draft(
        pick=draw(PICK),
        basis=draw(st.sampled_from(("consent", "consent", "consent", "notice", "none"))),
        scope=draw(st.sampled_from(("federation", "peers", "public", "local"))),
        peers="".join(draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))),
        reshare=draw(st.booleans()),
        subjects=" ".join(draw(st.lists(subject, max_size=2))),
        sensitivity=draw(st.sampled_from(("low", "medium", "high"))),
        regions=draw(st.sampled_from(("", "", *(f"{s}{r}" for s in "+-" for r in REGIONS)))),
        expires_in=draw(st.sampled_from((0, 0, 1, 3, 6))),
    )


def drafts() -> st.SearchStrategy[Draft]:
    """Half open lessons, half anything (a failing run shrinks towards an open one)."""
    return st.one_of(open_drafts(), any_drafts())
