"""Attack: a peer pairs under the name of a policy section meant for another hub.

Nairobi's operator raised Manila's ceiling with ``[peers."Manila Hub"] max_sensitivity =
"high"``, so a high-sensitivity lesson may go to Manila and to no one else. A third node,
holding an invite of Nairobi's, pairs and calls itself "Manila Hub" (at pairing, or later by
pairing again under the new name) and syncs.

What must hold: policy follows node ids, never a name a peer chose. The impostor never
receives the lesson; Manila does once the operator confirmed the name with ``rhizome policy
check`` (which shows the node id it bound). A name-keyed section nobody confirmed yet, or that
several peers could mean, fails closed: the peer concerned gets nothing (reason
``policy_binding``, in words in ``policy explain``), and ``policy check`` exits 1 saying why.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from federation.client import PeerClient
from federation.pairing import join_with_invite
from governance.policy_file import DEFAULT_POLICY
from node.home import HomePaths
from tests.integration.conftest import Cluster, RunningNode
from tests.node.conftest import Invoke

SECTION = '\n[approvals]\nhigh = 0\n\n[peers."Manila Hub"]\nmax_sensitivity = "high"\n'


def write_policy(home: Path, extra: str) -> None:
    """The default policy with its [approvals] section replaced by what ``extra`` says."""
    path = HomePaths(home).policy
    text = DEFAULT_POLICY
    start = text.index("[approvals]")
    end = text.index("[inbound]")
    path.write_text(text[:start] + text[end:] + extra, encoding="utf-8")


async def join_as(net: Cluster, joiner: RunningNode, inviter: RunningNode, name: str) -> None:
    """``joiner`` redeems an invite of ``inviter``'s, calling itself ``name``."""
    local = replace(joiner.node.local_node(), name=name)
    await join_with_invite(PeerClient(local, net.session), net.invite(inviter))


async def hubs(net: Cluster) -> tuple[RunningNode, RunningNode, RunningNode]:
    nairobi = await net.start("Nairobi Hub")
    manila = await net.start("Manila Hub", region="Southeast Asia")
    impostor = await net.start("Impostor", region="Southeast Asia")
    return nairobi, manila, impostor


async def test_a_peer_calling_itself_manila_never_gets_manilas_rules(
    cluster: Cluster, invoke: Invoke
) -> None:
    nairobi, manila, impostor = await hubs(cluster)
    write_policy(nairobi.home, SECTION)
    await cluster.pair(nairobi, manila)
    checked = invoke(nairobi.home, "policy", "check")
    assert checked.exit_code == 0, checked.output
    assert f'Bound [peers."Manila Hub"] to Manila Hub, node {manila.node_id}' in checked.output
    assert f'[peers."{manila.node_id}"]' in checked.output  # the id is suggested as the key
    secret = nairobi.add("Safe houses for Manila", "Only Manila may know.\n", sensitivity="high")

    await join_as(cluster, impostor, nairobi, "Manila Hub")
    seen = nairobi.peer(impostor)
    assert seen is not None and seen.name != "Manila Hub"  # a taken name is never shared

    report = await cluster.sync(impostor, nairobi)
    assert not report.errors, report.errors
    assert not impostor.has(secret)
    await cluster.sync(manila, nairobi)
    assert manila.has(secret)
    explained = invoke(nairobi.home, "policy", "explain", secret.id_hex, impostor.node_id)
    assert "DENY" in explained.output and "[above_ceiling]" in explained.output


async def test_renaming_after_pairing_does_not_transfer_rules(
    cluster: Cluster, invoke: Invoke
) -> None:
    """The impostor pairs as "Jakarta Hub" before Manila ever paired, then pairs again under
    Manila's free name: the name it was paired under stays, and the section stays unbound."""
    nairobi, manila, impostor = await hubs(cluster)
    write_policy(nairobi.home, SECTION)
    await join_as(cluster, impostor, nairobi, "Jakarta Hub")
    secret = nairobi.add("Safe houses for Manila", "Only Manila may know.\n", sensitivity="high")
    await join_as(cluster, impostor, nairobi, "Manila Hub")
    seen = nairobi.peer(impostor)
    assert seen is not None and seen.name == "Jakarta Hub"  # the name confirmed at pairing

    await cluster.sync(impostor, nairobi)
    assert not impostor.has(secret)
    explained = invoke(nairobi.home, "policy", "explain", secret.id_hex, impostor.node_id)
    assert "DENY" in explained.output and "[above_ceiling]" in explained.output
    # The real Manila pairs; the operator confirms the name, and only Manila gets the lesson.
    await cluster.pair(nairobi, manila)
    checked = invoke(nairobi.home, "policy", "check")
    assert checked.exit_code == 0, checked.output
    assert manila.node_id in checked.output
    await cluster.sync(manila, nairobi)
    await cluster.sync(impostor, nairobi)
    assert manila.has(secret) and not impostor.has(secret)


async def test_an_unconfirmed_name_fails_closed_until_the_operator_checks(
    cluster: Cluster, invoke: Invoke
) -> None:
    """The impostor pairs before Manila: the section names it alone, but nobody confirmed
    that. It gets nothing at all, not even what the defaults would give any peer."""
    nairobi, _, impostor = await hubs(cluster)
    write_policy(nairobi.home, SECTION)
    everyday = nairobi.add("Water points", "Open daily.\n", sensitivity="low")
    secret = nairobi.add("Safe houses for Manila", "Only Manila may know.\n", sensitivity="high")
    await join_as(cluster, impostor, nairobi, "Manila Hub")

    await cluster.sync(impostor, nairobi)
    assert not impostor.has(secret) and not impostor.has(everyday)
    explained = invoke(nairobi.home, "policy", "explain", everyday.id_hex, impostor.node_id)
    assert "[policy_binding]" in explained.output
    assert "not yet confirmed" in explained.output
    listed = invoke(nairobi.home, "policy", "log", "--json")
    assert "policy_binding" in listed.output  # the refusal is logged with its reason


async def test_a_section_that_cannot_be_resolved_is_an_error_and_fails_closed(
    cluster: Cluster, invoke: Invoke
) -> None:
    nairobi, manila, impostor = await hubs(cluster)
    await cluster.pair(nairobi, manila)
    await join_as(cluster, impostor, nairobi, "Jakarta Hub")
    write_policy(nairobi.home, '\n[peers."Manilla Hub"]\nmax_sensitivity = "low"\n')
    checked = invoke(nairobi.home, "policy", "check")
    assert checked.exit_code == 1
    assert '[peers."Manilla Hub"] names no peer of this node' in checked.output

    # Two sections for one peer, by name and by node id: which rules? Neither: it gets nothing.
    jakarta = SECTION.replace("Manila Hub", "Jakarta Hub")
    write_policy(nairobi.home, jakarta + f'\n[peers."{impostor.node_id}"]\n')
    checked = invoke(nairobi.home, "policy", "check")
    assert checked.exit_code == 1
    assert "both mean" in checked.output
    everyday = nairobi.add("Water points", "Open daily.\n", sensitivity="low")
    await cluster.sync(impostor, nairobi)
    assert not impostor.has(everyday)
    await cluster.sync(manila, nairobi)
    assert manila.has(everyday)
