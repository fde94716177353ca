"""What the federation layer needs to know about this node, gathered in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils

from crypto.signing import SigningIdentity
from federation.offer_sets import OfferSets
from federation.quotas import Quotas
from governance.policy_file import Policy

Clock = Callable[[], float]


@dataclass
class LocalNode:
    """This node as federation sees it: its database, key, public details, policy and clock.

    ``policy`` is called for each sync or request, so an edited policy.toml takes effect
    without a restart (the node layer re-reads it only when the file changed).
    """

    db: sqlite_utils.Database
    identity: SigningIdentity
    name: str
    region: str
    url: str
    policy: Callable[[], Policy]
    clock: Clock = field(default=time.time)
    quotas: Quotas = field(default_factory=Quotas)  # what each peer may make us store
    # Plain http:// to peers on other machines ([federation] allow_plain_http, labs only).
    allow_plain_http: bool = False
    # A new connection to the same database, for work in a worker thread
    # (federation/workers.py); None: derived from the database file.
    reconnect: Callable[[], sqlite_utils.Database] | None = None
    # Offer sets shared by every session with a peer, in both directions (offer_sets.py).
    offer_sets: OfferSets = field(default_factory=OfferSets)

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    def now(self) -> int:
        return int(self.clock())
