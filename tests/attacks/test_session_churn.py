"""A paired peer churns reconciliation sessions: a new session id for every message.

Before offer sets were kept, each new session scanned the whole archive, so a peer that
opened one every ~27 s kept a million-record node busy for good. The attacker here is a
real paired peer that signs its own requests and starts a reconciliation under a new
session id again and again. What must hold: the node builds that peer's offer set once and
every session shares it (no scan per session, no memory per session beyond the shared
snapshot); past the burst each new session is refused with 429, a ``Retry-After`` header and
the wait in the message; another peer syncs as usual; the node keeps serving.
"""

from __future__ import annotations

import json

from federation.responder import NEW_SESSIONS_BURST, SESSION_BYTES, session_bytes
from federation.routes import GATE
from tests.attacks.test_reconcile_amplification import open_session
from tests.integration.conftest import Cluster

CHURNED = NEW_SESSIONS_BURST + 6


async def test_churned_sessions_share_one_offer_set_and_are_refused_past_the_burst(
    cluster: Cluster,
) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(a, b)
    await cluster.pair(a, c)
    records = a.add_many(40, "Shared")
    responder = a.app[GATE].responder
    offer_sets = responder.local.offer_sets

    answers = [await open_session(cluster, b, a, f"churn-{n}") for n in range(CHURNED)]

    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * NEW_SESSIONS_BURST + [429] * (CHURNED - NEW_SESSIONS_BURST)
    for _, headers, body in answers[NEW_SESSIONS_BURST:]:
        error = json.loads(body)["error"]
        assert error["code"] == "too_many_requests" and "retry in" in error["message"]
        assert int(headers["Retry-After"]) >= 1
    # One scan for the attacker's offer set, whatever the number of sessions: the others
    # found it kept and up to date.
    assert offer_sets.stats.builds == 1
    assert offer_sets.stats.reused >= NEW_SESSIONS_BURST - 1
    # Its live sessions (two at most) hold one snapshot between them.
    live = {key: s for key, s in responder.sessions.items() if key[0] == b.node_id}
    assert 1 <= len(live) <= 2
    assert session_bytes(responder.sessions) == offer_sets.nbytes <= SESSION_BYTES
    # Another peer is not affected, and the node serves.
    report = await cluster.sync(c, a)
    assert report.errors == [] and all(c.has(record) for record in records)
    assert await cluster.healthy(a)
