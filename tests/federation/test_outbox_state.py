"""The outbox item's life cycle: every edge of the table, and every edge that is not in it."""

from __future__ import annotations

import itertools

import pytest

from federation.outbox_state import (
    ACKNOWLEDGE,
    ACKNOWLEDGED,
    EVENTS,
    FIRST_RETRY_SECONDS,
    HAND_OUT,
    MAX_RETRY_SECONDS,
    QUEUED,
    SENT,
    STATES,
    TRANSITIONS,
    OutboxStateError,
    next_state,
    retry_delay,
)

LEGAL = {
    (QUEUED, HAND_OUT): SENT,
    (SENT, HAND_OUT): SENT,
    (QUEUED, ACKNOWLEDGE): ACKNOWLEDGED,
    (SENT, ACKNOWLEDGE): ACKNOWLEDGED,
}
ILLEGAL = [pair for pair in itertools.product(STATES, EVENTS) if pair not in LEGAL]


def test_the_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == LEGAL
    assert ILLEGAL == [(ACKNOWLEDGED, HAND_OUT), (ACKNOWLEDGED, ACKNOWLEDGE)]


@pytest.mark.parametrize(("edge", "target"), sorted(LEGAL.items()))
def test_every_legal_edge(edge: tuple[str, str], target: str) -> None:
    assert next_state(*edge) == target


@pytest.mark.parametrize("edge", ILLEGAL)
def test_every_other_edge_raises_an_error_naming_the_state_and_event(
    edge: tuple[str, str],
) -> None:
    state, event = edge
    with pytest.raises(OutboxStateError, match=f"'{state}' cannot take the event '{event}'"):
        next_state(state, event)


@pytest.mark.parametrize("state", ["delivered", "", "SENT"])
def test_an_unknown_state_is_refused_too(state: str) -> None:
    with pytest.raises(OutboxStateError, match=repr(state)):
        next_state(state, HAND_OUT)


def test_only_handing_out_leaves_an_item_stored_and_nothing_returns_to_queued() -> None:
    assert {target for (_, event), target in LEGAL.items() if event == HAND_OUT} == {SENT}
    assert QUEUED not in LEGAL.values()


def test_the_retry_delay_doubles_from_the_first_up_to_the_cap() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        FIRST_RETRY_SECONDS * factor for factor in (1, 2, 4, 8)
    ]
    assert retry_delay(50) == retry_delay(10_000) == MAX_RETRY_SECONDS
    with pytest.raises(ValueError):
        retry_delay(0)
