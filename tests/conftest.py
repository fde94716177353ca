"""Shared fixtures: fixed keys, an injectable clock, throwaway node homes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

from crypto.signing import SigningIdentity
from node.demo import samples_folder
from node.home import create_home
from node.node import Node

# Fixed seeds make signatures, ids and node ids reproducible across runs (known answers).
SEED_A = bytes(range(32))
SEED_B = bytes(range(32, 64))
START = 1_780_000_000  # 2026-05-28T20:26:40Z

# One Hypothesis profile for the whole suite. The suite shares two cores with other work, so a
# per-example deadline or the "too slow" health check measures the machine's load, not our
# code: both are off everywhere. On CI (the CI variable set) runs are derandomized so a failure
# replays from the same seed. Tests set only what is theirs (max_examples, a fixture health
# check); tests/model registers its own bounded profile on top of this one.
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
# The CLI speaks the language of its environment: the suite reads English wherever it runs
# (a test of another language sets RHIZOME_LANGUAGE itself).
os.environ["RHIZOME_LANGUAGE"] = "en"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# A background loop's turn may wait on real loopback HTTP; past this a turn has hung.
TURN_DEADLINE = 20.0


class ManualLoopClock:
    """A :class:`federation.loop_clock.LoopClock` that moves only when a test says so.

    ``await turn(seconds)`` moves it on, wakes every loop whose sleep has ended and returns
    once each of them has gone to sleep again: its turn (queries, deliveries over HTTP) is
    over. Nothing runs on a timer by itself, so "three polls went by and sent nothing" is
    something the test saw happen.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None], asyncio.Task[Any] | None]] = []
        self._parked = asyncio.Event()
        self._stirred: set[asyncio.Task[Any]] = set()  # woken by their event, not by time

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await self._park(seconds, None)

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        task = asyncio.current_task()
        if not event.is_set():
            await self._park(timeout, event)
        elif task is not None:
            self._stirred.add(task)

    async def _park(self, seconds: float, event: asyncio.Event | None) -> None:
        woken = asyncio.get_running_loop().create_future()
        task = asyncio.current_task()
        entry = (self.now + seconds, woken, task)
        if task is not None:
            self._stirred.discard(task)
        self._sleepers.append(entry)
        self._parked.set()
        waiter = None if event is None else asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait(
                [woken] if waiter is None else [woken, waiter], return_when="FIRST_COMPLETED"
            )
        finally:
            if waiter is not None:
                if waiter.done() and not waiter.cancelled() and task is not None:
                    self._stirred.add(task)
                waiter.cancel()
            self._sleepers.remove(entry)

    async def turn(self, seconds: float) -> None:
        """Move on ``seconds``; return when every loop woken by it (or by its event, such as
        a revocation queued meanwhile) is asleep again."""
        self.now += seconds
        woken: set[asyncio.Task[Any]] = set()
        for deadline, future, task in list(self._sleepers):
            if deadline <= self.now and not future.done():
                future.set_result(None)
                if task is not None:
                    woken.add(task)
        async with asyncio.timeout(TURN_DEADLINE):
            while any(
                not task.done() and task not in self._asleep() for task in woken | self._stirred
            ):
                self._parked.clear()
                await self._parked.wait()

    def _asleep(self) -> set[asyncio.Task[Any] | None]:
        return {task for _, future, task in self._sleepers if not future.done()}


@pytest.fixture
def loop_clock() -> ManualLoopClock:
    return ManualLoopClock()


@pytest.fixture
def identity_a() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_A)


@pytest.fixture
def identity_b() -> SigningIdentity:
    return SigningIdentity.from_seed(SEED_B)


HomeFactory = Callable[..., Path]


@pytest.fixture
def make_home(tmp_path: Path) -> HomeFactory:
    """Create a node home in the test's temp dir; returns its path."""

    def make(
        name: str = "Nairobi Hub",
        region: str = "East Africa",
        language: str = "en",
        passphrase: str | None = None,
        identity: SigningIdentity | None = None,
        port: int = 8470,
    ) -> Path:
        home = tmp_path / name.lower().replace(" ", "-")
        create_home(
            home,
            name=name,
            region=region,
            language=language,
            url=None,
            host="127.0.0.1",
            port=port,
            passphrase=passphrase,
            identity=identity,
        )
        return home

    return make


@pytest.fixture
def home(make_home: HomeFactory, identity_a: SigningIdentity) -> Path:
    return make_home(identity=identity_a)


@pytest.fixture
def node(home: Path, clock: FakeClock) -> Iterator[Node]:
    opened = Node(home, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def samples() -> Path:
    return samples_folder()


def write_lesson(
    folder: Path, name: str, front: dict[str, Any] | None = None, body: str = "Body.\n"
) -> Path:
    """Write a lesson file with the given front matter (a valid checklist by default)."""
    fields = {"title": "A test lesson", "kind": "checklist"} if front is None else front
    path = folder / name
    path.write_text(
        "---\n" + yaml.safe_dump(fields, allow_unicode=True) + "---\n" + body, encoding="utf-8"
    )
    return path
