"""``rhizome wipe --tell-peers`` from the command line, against a real peer: the peer is told
(signed by the wiped node), marks it gone and logs it; then the home is gone. A peer that
cannot be reached does not hold the wipe up beyond its deadline."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.integration.conftest import Cluster

ROOT = Path(__file__).parents[2]


async def rhizome_wipe(home: Path) -> tuple[int, str, str]:
    """The CLI of this checkout in a process of its own (the peers serve in this one)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RHIZOME_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from node.cli import main; main()", "--home", str(home), "wipe",
        "--yes-destroy-this-node", "--tell-peers", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_wipe_tells_the_peers_then_destroys_the_home(cluster: Cluster) -> None:
    a = await cluster.start("Hub A")
    b = await cluster.start("Hub B")
    c = await cluster.start("Hub C")
    await cluster.pair(b, a)
    await cluster.pair(c, a)
    home = a.home
    await cluster.stop(a)
    await cluster.stop(c)  # C is down: A cannot tell it, and does not wait for it long

    code, out, err = await rhizome_wipe(home)
    assert code == 0, err
    assert "Hub B: told" in err and "Hub C: not told" in err
    assert "destroyed 3 key files first" in out  # node, admin and web session keys
    assert not home.exists()
    peer = b.peer(a)
    assert peer is not None and peer.status == "gone"
    assert b.count("events", "kind = 'peer.gone' AND subject = ?", [a.node_id]) == 1
