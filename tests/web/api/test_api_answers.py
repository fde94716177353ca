"""Every JSON route of a served node answers what the generated OpenAPI document says.

One story drives every operation of :data:`node.web.openapi.OPERATIONS` with real requests
(a second hub served on loopback to pair and sync with, a quarantined lesson from it, a
revocation with a holder), and each real answer, successes and errors alike, is validated
against the document's schema for its status. Objects are checked closed here (no field the
document does not name), so a field added to an answer without its type fails this test.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema

from archive.record import Consent, Lesson
from archive.signed_record import sign_lesson
from federation.invites import create_invite, encode_invite
from federation.peers import get_peer, record_deliveries
from federation.receiving import Receiver
from node.node import Node
from node.web.openapi import OPERATIONS, document
from tests.conftest import START
from tests.web.api.test_exchange_api import exchange_calls
from tests.web.api.test_operator_reads import quarantine_on
from tests.web.conftest import LESSON, PASSWORD, Client, Served, api_session, basic
from tests.web.pages.test_attachments_page import lesson_with_files

JSON_OPERATIONS = {(op.method, op.path) for op in OPERATIONS if op.plain is None}


def closed(schema: Any) -> Any:
    """The schema with every object that names its properties closed to any other."""
    if isinstance(schema, dict):
        found = {key: closed(value) for key, value in schema.items()}
        if "properties" in found and "additionalProperties" not in found:
            found["additionalProperties"] = False
        return found
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


class Checker:
    """Validates answers against the document and remembers which operations answered."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.doc = document()
        self.components = closed(copy.deepcopy(self.doc["components"]))
        self.answered: set[tuple[str, str]] = set()

    async def call(self, method: str, route: str, path: str, status: int, **options: Any) -> Any:
        """``method path`` (an instance of the documented ``route``) must answer ``status``
        with a body valid for that status; the body."""
        response = await self.client.request(method, path, **options)
        text = await response.text()
        assert response.status == status, (method, path, text)
        assert response.content_type == "application/json", text
        body = await response.json()
        responses = self.doc["paths"][route][method.lower()]["responses"]
        assert str(status) in responses, f"{method} {route} does not document {status}"
        self.validate(body, self.schema_of(responses[str(status)]), f"{method} {path} {status}")
        if status < 400:
            self.answered.add((method, route))
        return body

    def schema_of(self, response: dict[str, Any]) -> Any:
        if "$ref" in response:  # a shared error response
            name = response["$ref"].rsplit("/", 1)[1]
            response = self.doc["components"]["responses"][name]
        return response["content"]["application/json"]["schema"]

    def validate(self, body: Any, schema: Any, where: str) -> None:
        root = {"components": self.components, **closed(schema)}
        errors = list(jsonschema.Draft202012Validator(root).iter_errors(body))
        assert not errors, f"{where}: {[f'{list(e.absolute_path)}: {e.message}' for e in errors]}"


def lesson_from(hub: Node, title: str) -> Any:
    lesson = Lesson(
        kind="checklist", title=title, body="Carry water.\n", language="tl",
        region=hub.config.region, created=START, origin=hub.public_key, author="admin",
        consent=Consent("consent", "federation", reshare=True),
    )  # fmt: skip
    return sign_lesson(hub.identity, lesson)


async def test_every_route_answers_what_the_document_says(
    client: Client, members: Node, other_hub: Served
) -> None:
    check = Checker(client)
    admin, amina, chidi = basic("admin"), basic("amina"), basic("chidi")
    hub = other_hub.node
    # health and session
    await check.call("GET", "/healthz", "/healthz", 200)
    await check.call("GET", "/healthz", "/healthz?verbose", 200)
    await check.call("GET", "/healthz", "/healthz?verbose", 200, headers=admin)
    await check.call("GET", "/api/v1/session", "/api/v1/session", 200)
    session = "/api/v1/session"
    signing_in = {"name": "chidi", "password": PASSWORD}
    await check.call("POST", session, session, 200, json=signing_in)
    await check.call("POST", session, session, 401, json={**signing_in, "password": "wrong"})
    await check.call("POST", session, session, 400, json={"name": "chidi"})
    await check.call("DELETE", session, session, 200)
    await check.call("GET", "/api/v1/lessons", "/api/v1/lessons", 401)  # signed out: nothing
    await check.call("POST", "/api/v1/lessons", "/api/v1/lessons", 401, json=LESSON)
    await api_session(client, "admin")  # the reads below as a signed-in member

    # lessons
    lessons = "/api/v1/lessons"
    new = await check.call("POST", lessons, lessons, 201, json=LESSON, headers=amina)
    await check.call("POST", lessons, lessons, 200, json=LESSON, headers=amina)
    await check.call("POST", lessons, lessons, 400, json={**LESSON, "kind": 3}, headers=amina)
    record = new["id"]
    await check.call("GET", lessons, lessons, 200)
    await check.call("GET", lessons, f"{lessons}?q=pairs", 200)
    await check.call("GET", lessons, f"{lessons}?limit=0", 400)
    one = f"{lessons}/{{id}}"
    await check.call("GET", one, f"{lessons}/{record}", 200)
    await check.call("GET", one, f"{lessons}/ffffffff", 404)
    approve = f"{lessons}/{{id}}/approve"
    await check.call("POST", approve, f"{lessons}/{record}/approve", 200, json={}, headers=chidi)
    await check.call("POST", approve, f"{lessons}/{record}/approve", 403, json={}, headers=amina)

    # peers: invite, pair with the served hub, sync with it
    peers = "/api/v1/peers"
    await check.call("POST", f"{peers}/invite", f"{peers}/invite", 201, json={}, headers=admin)
    await check.call(
        "POST", f"{peers}/invite", f"{peers}/invite", 400, json={"ttl": 1}, headers=admin
    )
    code = encode_invite(create_invite(hub.db, hub.node_id, other_hub.url, hub.now(), 3600))
    await check.call("POST", peers, peers, 201, json={"code": code}, headers=admin)
    await check.call("GET", peers, peers, 200)
    sync = f"{peers}/{{peer}}/sync"
    await check.call("POST", sync, f"{peers}/{hub.node_id}/sync", 200, json={}, headers=admin)

    # operator reads
    await check.call("GET", "/api/v1/policy", "/api/v1/policy", 200)
    explain = "/api/v1/policy/explain"
    await check.call("GET", explain, f"{explain}?record={record}&peer={hub.node_id}", 200)
    await check.call("GET", explain, f"{explain}?record={record}", 400)
    await check.call("GET", "/api/v1/decisions", "/api/v1/decisions", 200)
    await check.call("GET", "/api/v1/events", "/api/v1/events?limit=5", 200)
    await check.call("GET", "/api/v1/members", "/api/v1/members", 200)

    # quarantine: two lessons from the hub wait; a curator accepts one and rejects the other
    quarantine_on(members)
    peer = get_peer(members.db, hub.node_id)
    assert peer is not None
    waiting = [lesson_from(hub, title) for title in ("Agua", "Sombra")]
    received = Receiver.of(members.local_node()).receive([r.envelope for r in waiting], peer)
    assert len(received.quarantined) == 2
    await check.call("GET", "/api/v1/quarantine", "/api/v1/quarantine", 200)
    for action, signed, again in zip(("accept", "reject"), waiting, (400, 404), strict=True):
        route = f"{lessons}/{{id}}/{action}"
        path = f"{lessons}/{signed.id_hex}/{action}"
        await check.call("POST", route, path, 200, json={}, headers=chidi)
        await check.call("POST", route, path, again, json={}, headers=chidi)  # not waiting now

    # revoke a lesson the hub holds, and follow its receipts
    record_deliveries(members.db, hub.node_id, [record], "sent", members.now())
    members.db.conn.commit()
    revoke = f"{lessons}/{{id}}/revoke"
    await check.call(
        "POST", revoke, f"{lessons}/{record}/revoke", 400, json={"reason": "x"}, headers=amina
    )
    body = {"reason": "consent-withdrawn", "note": "asked"}
    await check.call("POST", revoke, f"{lessons}/{record}/revoke", 200, json=body, headers=amina)
    receipts = f"{lessons}/{{id}}/receipts"
    await check.call("GET", receipts, f"{lessons}/{record}/receipts", 200)

    # one participant withdraws consent to a lesson's files (and an unknown one is refused)
    shown, _ = lesson_with_files(members)
    consent = f"{lessons}/{{id}}/consent/withdraw"
    path = f"{lessons}/{shown}/consent/withdraw"
    await check.call("POST", consent, path, 400, json={"subject": "Nobody"}, headers=admin)
    await check.call("POST", consent, path, 200, json={"subject": "Heron"}, headers=admin)

    # what this hub uses lessons for
    purposes = "/api/v1/purposes"
    await check.call("GET", purposes, purposes, 200)
    await check.call("POST", purposes, purposes, 200, json={"purposes": ["training"]},
                     headers=admin)  # fmt: skip
    await check.call("POST", purposes, purposes, 400, json={"purposes": "training"},
                     headers=admin)  # fmt: skip
    await check.call("GET", purposes, purposes, 200)

    # peer status changes, and the one refused
    for action, status in (("suspend", 200), ("resume", 200), ("remove", 200), ("resume", 409)):
        route = f"{peers}/{{peer}}/{action}"
        path = f"{peers}/{hub.node_id}/{action}"
        await check.call("POST", route, path, status, json={}, headers=admin)

    await exchange_calls(check)  # collections, evaluations, follow-ups: test_exchange_api.py

    missing = sorted(JSON_OPERATIONS - check.answered)
    assert not missing, f"operations this test never saw answer: {missing}"


async def test_every_schema_of_the_served_document_is_valid_json_schema(client: Client) -> None:
    """JSON Schema 2020-12, the dialect of OpenAPI 3.1; each named after its type."""
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    served = await response.json()
    for name, schema in served["components"]["schemas"].items():
        root = {"components": served["components"], **schema}
        jsonschema.Draft202012Validator.check_schema(root)
        assert schema.get("title") == name
