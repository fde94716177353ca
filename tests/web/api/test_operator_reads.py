"""The operator's reads: peers, policy and explain, decisions, events, members, quarantine;
open to this machine, and from elsewhere only to a signed-in member of an open node."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from aiohttp import web

from archive.record import Consent, Lesson
from archive.signed_record import SignedRecord, sign_lesson
from federation.peers import Peer, get_peer, save_peer
from federation.receiving import Receiver
from federation.sharing import Offer
from node.node import Node
from node.web.app import create_app
from node.web.errors import Handler
from tests.conftest import SEED_B, START, FakeClock, HomeFactory
from tests.web.conftest import (
    LESSON,
    Client,
    ClientFactory,
    add_lesson,
    assert_error,
    assert_healthy,
    basic,
    counts,
    json_of,
)


@pytest.fixture
def lima(make_home: HomeFactory, clock: FakeClock, members: Node) -> Iterator[Node]:
    """A second hub, paired with ours both ways (what a finished pairing leaves)."""
    from crypto.signing import SigningIdentity

    home = make_home("Lima Hub", "Andes", identity=SigningIdentity.from_seed(SEED_B), port=8471)
    other = Node(home, clock=clock)
    for here, there in ((members, other), (other, members)):
        config = there.config
        save_peer(here.db, there.node_id, config.name, config.region, config.url, START)
        here.db.conn.commit()
    yield other
    other.close()


def peer_of(here: Node, there: Node) -> Peer:
    peer = get_peer(here.db, there.node_id)
    assert peer is not None
    return peer


def signed_by(origin: Node, title: str) -> SignedRecord:
    lesson = Lesson(
        kind="checklist", title=title, body="Carry water.\n", language="es",
        region=origin.config.region, created=START, origin=origin.public_key, author="admin",
        consent=Consent("consent", "federation", reshare=True),
    )  # fmt: skip
    return sign_lesson(origin.identity, lesson)


def quarantine_on(node: Node) -> None:
    path = node.paths.policy
    text = path.read_text(encoding="utf-8")
    assert text.count("quarantine = false") == 1
    path.write_text(text.replace("quarantine = false", "quarantine = true"), encoding="utf-8")
    stat = path.stat()  # a coarse file-system clock must not hide the edit
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def waiting(members: Node, lima: Node) -> str:
    """A lesson from Lima that waits in our quarantine; its id."""
    quarantine_on(members)
    record = signed_by(lima, "Agua para la marcha")
    result = Receiver.of(members.local_node()).receive([record.envelope], peer_of(members, lima))
    assert result.quarantined == [record.id_hex]
    return record.id_hex


# ---- quarantine ---------------------------------------------------------------------------


async def test_a_curator_accepts_a_quarantined_lesson(
    client: Client, members: Node, waiting: str
) -> None:
    queue = await json_of(await client.get("/api/v1/quarantine"))
    assert [item["id"] for item in queue["lessons"]] == [waiting]
    assert (await json_of(await client.get("/api/v1/lessons")))["total"] == 0
    body = await json_of(
        await client.post(f"/api/v1/lessons/{waiting}/accept", json={}, headers=basic("chidi"))
    )
    assert body == {"id": waiting, "status": "accepted"}
    assert (await json_of(await client.get("/api/v1/quarantine")))["lessons"] == []
    assert (await json_of(await client.get("/api/v1/lessons")))["total"] == 1


async def test_a_steward_rejects_one_and_it_is_purged(
    client: Client, members: Node, waiting: str
) -> None:
    before = counts(members)
    body = await json_of(
        await client.post(f"/api/v1/lessons/{waiting[:8]}/reject", json={}, headers=basic("sefu"))
    )
    assert body == {"id": waiting, "status": "rejected"}
    after = counts(members)
    assert after["records"] == before["records"] - 1
    assert after["rejected_records"] == before["rejected_records"] + 1
    await assert_error(await client.get(f"/api/v1/lessons/{waiting}"), 404, "not_found")


async def test_review_needs_the_role_and_a_waiting_lesson(
    client: Client, members: Node, waiting: str
) -> None:
    before = counts(members)
    for verb in ("accept", "reject"):
        response = await client.post(
            f"/api/v1/lessons/{waiting}/{verb}", json={}, headers=basic("amina")
        )
        await assert_error(response, 403, "forbidden")
        client.session.cookie_jar.clear()  # no session (the fixture's admin), no credentials
        await assert_error(
            await client.post(f"/api/v1/lessons/{waiting}/{verb}"), 401, "unauthenticated"
        )
    assert counts(members) == before
    own = await add_lesson(client)
    response = await client.post(f"/api/v1/lessons/{own}/accept", json={}, headers=basic("chidi"))
    assert "not waiting in quarantine" in await assert_error(response, 400, "rejected")
    await assert_healthy(client)


# ---- policy, decisions, events, members ---------------------------------------------------


async def test_the_policy_in_force_and_its_hash(client: Client, members: Node) -> None:
    body = await json_of(await client.get("/api/v1/policy"))
    assert body == {
        "hash": members.policy().hash,
        "text": members.paths.policy.read_text(encoding="utf-8"),
    }


async def test_explain_says_why_in_words(client: Client, members: Node, lima: Node) -> None:
    record_id = await add_lesson(client)
    body = await json_of(
        await client.get("/api/v1/policy/explain", params={"record": record_id, "peer": "Lima Hub"})
    )
    assert (body["record"], body["peer"]) == (record_id, lima.node_id)
    assert body["decision"] in ("allow", "deny")
    assert body["reasons"] and all(set(r) == {"code", "text", "allows"} for r in body["reasons"])
    assert body["policy_hash"] == members.policy().hash


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"peer": "Lima Hub"}, 400, "bad_request"),
        ({"record": "RECORD"}, 400, "bad_request"),
        ({"record": "RECORD", "peer": "Nowhere"}, 404, "unknown_peer"),
        ({"record": "ffffffff", "peer": "Lima Hub"}, 404, "not_found"),
    ],
)
async def test_explain_names_what_is_missing(
    client: Client, members: Node, lima: Node, params: dict[str, str], status: int, code: str
) -> None:
    record_id = await add_lesson(client)
    params = {key: record_id if value == "RECORD" else value for key, value in params.items()}
    await assert_error(await client.get("/api/v1/policy/explain", params=params), status, code)


async def test_decisions_newest_first_and_by_record(
    client: Client, members: Node, lima: Node
) -> None:
    first, second = await add_lesson(client), await add_lesson(client, title="Second one")
    sharing = Offer.of(members.local_node())
    sharing.envelopes_for(
        [bytes.fromhex(first), bytes.fromhex(second)], peer_of(members, lima), 1 << 20
    )
    body = await json_of(await client.get("/api/v1/decisions"))
    assert [entry["record"] for entry in body["decisions"]] == [second, first]
    assert body["decisions"][0]["peer"] == lima.node_id
    only = await json_of(await client.get("/api/v1/decisions", params={"record": first[:8]}))
    assert [entry["record"] for entry in only["decisions"]] == [first]
    one = await json_of(await client.get("/api/v1/decisions?limit=1"))
    assert len(one["decisions"]) == 1
    await assert_error(await client.get("/api/v1/decisions?limit=0"), 400, "bad_request")


async def test_events_name_ids_never_content(client: Client, members: Node) -> None:
    record_id = await add_lesson(client)
    response = await client.get("/api/v1/events", params={"limit": "3"})
    body = await json_of(response)
    assert len(body["events"]) == 3
    newest = body["events"][0]
    assert (newest["kind"], newest["subject"]) == ("record.added", record_id)
    assert [e["seq"] for e in body["events"]] == sorted(
        (e["seq"] for e in body["events"]), reverse=True
    )
    assert LESSON["title"] not in await response.text()
    await assert_error(await client.get("/api/v1/events?limit=10001"), 400, "bad_request")


async def test_members_and_their_roles_without_secrets(client: Client, members: Node) -> None:
    response = await client.get("/api/v1/members")
    body = await json_of(response)
    roles = {m["name"]: m["roles"] for m in body["members"]}
    assert roles == {
        "admin": ["admin"], "amina": ["author"], "chidi": ["curator"], "sefu": ["steward"],
        "tariq": ["curator", "author"], "ana": ["author"], "cora": ["curator"], "sam": ["steward"],
    }  # fmt: skip
    assert all(set(m) == {"name", "roles", "key", "added"} for m in body["members"])
    assert "argon2" not in await response.text()


async def test_peers_are_listed_with_their_standing(
    client: Client, members: Node, lima: Node
) -> None:
    body = await json_of(await client.get("/api/v1/peers"))
    [peer] = body["peers"]
    assert (peer["id"], peer["name"], peer["status"], peer["strikes"]) == (
        lima.node_id, "Lima Hub", "active", 0,
    )  # fmt: skip


# ---- who may read -------------------------------------------------------------------------

OPERATOR_READS = ["peers", "policy", "decisions", "events", "members", "quarantine"]


@web.middleware
async def from_afar(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request seems to come from another machine (the test client is on loopback)."""
    return await handler(request.clone(remote="192.0.2.10"))


async def client_from_afar(aiohttp_client: ClientFactory, node: Node, public: bool) -> Client:
    node.config = dataclasses.replace(node.config, public_read=public)
    app = create_app(node, background_sync=False)
    app.middlewares.insert(0, from_afar)
    return await aiohttp_client(app)


@pytest.mark.parametrize("name", OPERATOR_READS)
async def test_operator_data_needs_a_member_from_another_machine(
    aiohttp_client: ClientFactory, members: Node, name: str
) -> None:
    client = await client_from_afar(aiohttp_client, members, public=True)
    response = await client.get(f"/api/v1/{name}")
    await assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    await json_of(await client.get(f"/api/v1/{name}", headers=basic("amina")))


async def test_an_open_node_shows_only_public_lessons_to_anyone(
    aiohttp_client: ClientFactory, members: Node
) -> None:
    client = await client_from_afar(aiohttp_client, members, public=True)
    shared = await add_lesson(client)  # consent scope federation: for members only
    public = await add_lesson(
        client, title="Open to all", consent={"basis": "consent", "scope": "public"}
    )
    listed = await json_of(await client.get("/api/v1/lessons"))
    assert [item["id"] for item in listed["lessons"]] == [public] and listed["total"] == 1
    found = await json_of(await client.get("/api/v1/lessons?q=pairs"))  # both bodies match
    assert [hit["id"] for hit in found["lessons"]] == [public]
    shown = await json_of(await client.get(f"/api/v1/lessons/{public}"))
    assert shown["id"] == public and "approvals" not in shown and "received_from" not in shown
    await assert_error(await client.get(f"/api/v1/lessons/{shared}"), 404, "not_found")
    await assert_error(await client.get(f"/api/v1/lessons/{shared}/receipts"), 401,
                       "unauthenticated")  # fmt: skip
    member = await json_of(await client.get("/api/v1/lessons", headers=basic("amina")))
    assert {item["id"] for item in member["lessons"]} == {shared, public}


async def test_a_closed_node_answers_only_members(
    aiohttp_client: ClientFactory, members: Node
) -> None:
    client = await client_from_afar(aiohttp_client, members, public=False)
    for name in ("lessons", *OPERATOR_READS):
        await assert_error(await client.get(f"/api/v1/{name}"), 401, "unauthenticated")
        await json_of(await client.get(f"/api/v1/{name}", headers=basic("admin")))
