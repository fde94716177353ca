"""What the federation layer needs to know about this node, gathered in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils

from crypto.signing import SigningIdentity

Clock = Callable[[], float]


@dataclass
class LocalNode:
    """This node as federation sees it: its database, key, public details and clock."""

    db: sqlite_utils.Database
    identity: SigningIdentity
    name: str
    region: str
    url: str
    clock: Clock = field(default=time.time)

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    def now(self) -> int:
        return int(self.clock())
