"""Shared fixtures: fixed keys, an injectable clock, throwaway node homes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crypto.signing import SigningIdentity
from node.demo import samples_folder
from node.home import create_home
from node.node import Node

# Fixed seeds make signatures, ids and node ids reproducible across runs (known answers).
SEED_A = bytes(range(32))
SEED_B = bytes(range(32, 64))
START = 1_780_000_000  # 2026-05-28T20:26:40Z


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
