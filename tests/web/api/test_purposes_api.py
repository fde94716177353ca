"""``/api/v1/purposes``: what this hub declares it uses lessons for, through the API (the same
action as ``rhizome purposes set``); refusals store nothing and the node keeps serving."""

from __future__ import annotations

from federation.purposes import own_declaration
from node.node import Node
from tests.web.conftest import Client, assert_error, assert_healthy, basic, counts, json_of

PATH = "/api/v1/purposes"


async def test_a_steward_declares_and_a_member_reads(client: Client, members: Node) -> None:
    assert await json_of(await client.get(PATH)) == {"purposes": [], "declared": None}
    said = await json_of(await client.post(PATH, json={"purposes": ["Training", "research"]},
                                           headers=basic("sefu")))  # fmt: skip
    assert said["purposes"] == ["research", "training"] and said["declared"]
    read = await json_of(await client.get(PATH, headers=basic("amina")))
    assert read == said
    declared = own_declaration(members.db, members.node_id)
    assert declared is not None and declared.purposes == ("research", "training")
    none = await json_of(await client.post(PATH, json={"purposes": []}, headers=basic("sefu")))
    assert none["purposes"] == []


async def test_refusals_store_nothing(client: Client, members: Node) -> None:
    before = counts(members)
    author = await client.post(PATH, json={"purposes": ["press"]}, headers=basic("amina"))
    await assert_error(author, 403, "forbidden")
    too_many = await client.post(PATH, json={"purposes": [f"p{n}" for n in range(17)]},
                                 headers=basic("sefu"))  # fmt: skip
    assert "purposes" in await assert_error(too_many, 400, "bad_request")
    too_long = await client.post(PATH, json={"purposes": ["x" * 41]}, headers=basic("sefu"))
    await assert_error(too_long, 400, "bad_request")
    assert counts(members) == before
    assert own_declaration(members.db, members.node_id) is None
    await assert_healthy(client)
