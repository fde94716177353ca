"""Attack: a paired peer claims another region after pairing to get what its region may not.

Nairobi's policy shares nothing with "Southeast Asia" (``regions_deny``), and one lesson's
consent allows only "East Africa". A peer that paired from Southeast Asia pairs again (with a
fresh invite, or by answering Nairobi's own pairing) now saying it is in East Africa, and
syncs.

What must hold: a peer's region is the one stored when it first paired, which the operator
saw then; no later pairing request or answer changes it (nor its name), so the peer gets
nothing the stored region may not get, and ``policy explain`` names the region rule.
"""

from __future__ import annotations

from dataclasses import replace

from federation.client import PeerClient
from federation.pairing import join_with_invite
from governance.policy_file import DEFAULT_POLICY
from node.home import HomePaths
from node.web.app import GATE
from tests.integration.conftest import Cluster, RunningNode
from tests.node.conftest import Invoke


async def join_claiming(
    net: Cluster, joiner: RunningNode, inviter: RunningNode, region: str
) -> None:
    local = replace(joiner.node.local_node(), region=region)
    await join_with_invite(PeerClient(local, net.session), net.invite(inviter))


async def test_a_peer_cannot_move_itself_into_an_allowed_region(
    cluster: Cluster, invoke: Invoke
) -> None:
    nairobi = await cluster.start("Nairobi Hub", region="East Africa")
    claimer = await cluster.start("Claimer Hub", region="Southeast Asia")
    policy = DEFAULT_POLICY.replace("regions_deny = []", 'regions_deny = ["Southeast Asia"]')
    HomePaths(nairobi.home).policy.write_text(policy, encoding="utf-8")
    everyday = nairobi.add("Water points", "Open daily.\n")
    await cluster.pair(nairobi, claimer)
    seen = nairobi.peer(claimer)
    assert seen is not None and seen.region == "Southeast Asia"

    await join_claiming(cluster, claimer, nairobi, "East Africa")
    seen = nairobi.peer(claimer)
    assert seen is not None and seen.region == "Southeast Asia"
    await cluster.sync(claimer, nairobi)
    assert not claimer.has(everyday)
    explained = invoke(nairobi.home, "policy", "explain", everyday.id_hex, claimer.node_id)
    assert "[peer_region_denied]" in explained.output


async def test_a_pairing_answer_cannot_change_a_peers_region_or_name(cluster: Cluster) -> None:
    """Nairobi joins the claimer's invite after they first paired: the claimer answers with a
    new region and name; Nairobi keeps what it stored at the first pairing."""
    nairobi = await cluster.start("Nairobi Hub", region="East Africa")
    claimer = await cluster.start("Claimer Hub", region="Southeast Asia")
    only_east_africa = nairobi.lesson("For East Africa only", "Meet at the well.\n")
    only_east_africa = replace(
        only_east_africa,
        consent=replace(only_east_africa.consent, regions_allow=("East Africa",)),
    )
    record = nairobi.node.writer.add_lesson(only_east_africa)
    await cluster.pair(nairobi, claimer)
    # The claimer's server now answers pairings with another name and region.
    serving = claimer.app[GATE].responder.local
    serving.name, serving.region = "Nairobi Hub", "East Africa"
    await cluster.pair(claimer, nairobi)
    seen = nairobi.peer(claimer)
    assert seen is not None
    assert (seen.name, seen.region) == ("Claimer Hub", "Southeast Asia")
    await cluster.sync(claimer, nairobi)
    assert not claimer.has(record)
