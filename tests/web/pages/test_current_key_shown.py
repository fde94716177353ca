"""The node id people read is the first key's (the stable identity); after a key rotation
the key in use is shown beside it: in the footer, on the Status page and, for each peer that
rotated, on the Peers page with the day it rotated (issue 15)."""

from __future__ import annotations

from archive.key_store import save_key_history
from crypto.key_statements import make_genesis, make_rotation
from crypto.signing import SigningIdentity
from federation.peers import save_peer
from node.keys import rotate_node_key
from node.node import Node
from node.web.app import create_app
from tests.conftest import START
from tests.web.conftest import Client, ClientFactory, page, signed_in


async def test_a_peer_that_rotated_shows_its_current_key_and_when(
    client: Client, members: Node
) -> None:
    first, second, recovery = (SigningIdentity.generate() for _ in range(3))
    stays = SigningIdentity.generate()
    save_peer(members.db, first.node_id, "Lima Hub", "Andes", "https://lima.example", START)
    save_peer(members.db, stays.node_id, "Quito Hub", "Andes", "https://quito.example", START)
    genesis = make_genesis(first, recovery.public_key, START)
    rotation = make_rotation(first, genesis, second.public_key, START + 86_400)
    save_key_history(members.db, first.node_id, [genesis.raw, rotation.raw], START + 90_000)
    await signed_in(client, "admin")

    text = await page(client, "/peers")

    lima = text[text.index('id="peer-' + first.node_id[:8]) :][:4000]
    assert first.node_id in lima and second.key_id in lima
    assert "rotated on" in lima and "the node id stays" in lima
    quito = text[text.index('id="peer-' + stays.node_id[:8]) :][:4000]
    assert "Current key" not in quito.split("</li>")[0]  # it never rotated: nothing beside

    # The JSON API and `rhizome peer list --json` say the same (node/serialize.py).
    async with client.get("/api/v1/peers") as answer:
        listed = {peer["id"]: peer for peer in (await answer.json())["peers"]}
    assert listed[first.node_id]["current_key"] == second.key_id
    assert listed[first.node_id]["rotated"] is not None
    assert listed[stays.node_id]["current_key"] == stays.node_id
    assert listed[stays.node_id]["rotated"] is None


async def test_a_rotated_hub_shows_its_id_and_current_key_on_status_and_in_the_footer(
    aiohttp_client: ClientFactory, members: Node
) -> None:
    home = members.paths.root
    change = rotate_node_key(members)
    members.close()
    again = Node(home)
    client = await aiohttp_client(create_app(again, background_sync=False))
    await signed_in(client, "admin")
    current = SigningIdentity.from_seed(again.identity.seed).key_id
    assert current != again.node_id and change.statement.key == again.identity.public_key

    status = await page(client, "/status")
    facts = status[status.index('id="status-facts"') :].split("</dl>")[0]
    assert again.node_id in facts and current in facts
    assert "(rotated; the node id stays)" in facts
    footer = status[status.index("<footer") :]
    assert again.node_id in footer and current in footer

    peers_page = await page(client, "/peers")
    assert current in peers_page[peers_page.index("<footer") :]
