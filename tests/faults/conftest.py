"""The fault suite: real processes killed with SIGKILL at seeded random points, a disk that
fills up, clocks that disagree. It reuses the real-node fixtures of the integration tests.

Every random choice comes from one seed, printed at the start of each test (and taken from
``FAULTS_SEED`` when set), so a failure is replayed with ``FAULTS_SEED=<seed> pytest …``.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.faults.disk import small_disk
from tests.integration.conftest import cluster
from tests.node.conftest import _clean_environment

__all__ = ["_clean_environment", "cluster", "rng", "small_disk"]


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    seed = int(os.environ.get("FAULTS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"FAULTS_SEED={seed}")
    request.node.user_properties.append(("faults_seed", seed))
    return random.Random(seed)
