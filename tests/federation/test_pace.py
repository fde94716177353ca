"""A whole exchange is watched: it must keep a pace once data moves, and end in time."""

from __future__ import annotations

import asyncio

import pytest

from federation import pace
from federation.errors import PeerTooSlow


@pytest.fixture(autouse=True)
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "PROGRESS_WINDOW", 0.2)
    monkeypatch.setattr(pace, "MIN_PROGRESS_BYTES", 1_000)


class Exchange:
    """An exchange that moves ``step`` bytes each turn until told to stop."""

    def __init__(self, step: int, turns: int) -> None:
        self.moved = 0
        self.step = step
        self.turns = turns
        self.cancelled = False

    async def run(self) -> str:
        try:
            for _ in range(self.turns):
                await asyncio.sleep(0.01)
                self.moved += self.step
            return "done"
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_an_exchange_that_keeps_the_pace_finishes() -> None:
    exchange = Exchange(step=100_000, turns=50)

    assert await pace.paced(exchange.run(), lambda: exchange.moved, "Hub B") == "done"


async def test_an_exchange_below_the_pace_is_cut_and_cancelled() -> None:
    exchange = Exchange(step=10, turns=1_000)

    with pytest.raises(PeerTooSlow, match="Hub B was too slow"):
        await pace.paced(exchange.run(), lambda: exchange.moved, "Hub B")

    assert exchange.cancelled


async def test_nothing_is_judged_before_data_starts_to_move() -> None:
    """The first reconciliation round may take long (the peer builds its offer set)."""

    async def slow_start() -> str:
        await asyncio.sleep(0.5)  # windows without a byte
        return "done"

    assert await pace.paced(slow_start(), lambda: 0, "Hub B") == "done"


async def test_an_exchange_past_its_deadline_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "EXCHANGE_DEADLINE", 0.5)
    exchange = Exchange(step=100_000, turns=10_000)  # keeps the pace, never ends

    with pytest.raises(PeerTooSlow, match=r"took longer than 0\.5 s"):
        await pace.paced(exchange.run(), lambda: exchange.moved, "Hub B")

    assert exchange.cancelled
