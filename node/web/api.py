"""The JSON API's reads under ``/api/v1/``, and ``/healthz``.

Every route here but ``/healthz`` needs a signed-in member, from this machine too; the access
layer (:mod:`node.web.access`) refuses before a handler runs. With ``[server] public_read``
on, listing, searching and reading lessons also answer anyone, narrowed to the lessons whose
consent scope is ``public`` (:func:`node.web.access.public_only`). Writes live in
:mod:`node.web.api_writes`.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from archive.event_log import recent_events
from archive.queries import RecordFilters
from archive.tombstones import resolve_revoked_id
from federation.peers import list_peers, resolve_peer
from federation.propagation import receipt_status
from federation.sharing import Offer
from governance.decision_log import recent_decisions
from governance.members import list_members
from governance.quarantine import quarantined_records
from node import __version__
from node.actions import in_worker_thread, reading
from node.config import NodeConfig
from node.node import Node
from node.serialize import (
    decision_json,
    event_json,
    explanation_json,
    hit_json,
    holder_json,
    lesson_detail,
    member_json,
    peer_json,
    public_lesson_detail,
    summary_json,
)
from node.status import counts_json, node_status_in_thread, status_json
from node.tls import PLAIN_HTTP_WARNING
from node.web.access import public_only
from node.web.api_types import DecisionQuery, ExplainQuery, LessonQuery, LogQuery
from node.web.auth import NotSignedIn, current_member
from node.web.errors import Handler, error_response
from node.web.json_bodies import expectation, refusal

NODE: web.AppKey[Node] = web.AppKey("node", Node)
M = TypeVar("M", bound=msgspec.Struct)
BASIC_CHALLENGE = 'Basic realm="rhizome", charset="UTF-8"'
routes = web.RouteTableDef()


def query_of(request: web.Request, message: type[M]) -> M:
    """The query parameters ``message`` declares (:mod:`node.web.api_types`; others are
    ignored), trimmed and checked against their declared types and limits: 400 naming one."""
    info = msgspec.inspect.type_info(message)
    assert isinstance(info, msgspec.inspect.StructType)
    given = {f.encode_name: request.query[f.encode_name].strip() for f in info.fields
             if f.encode_name in request.query}  # fmt: skip
    for field in info.fields:  # whole numbers in plain digits only: no "1e3", "+5" or "5.0"
        raw = given.get(field.encode_name)
        if raw is not None and _is_int(field.type) and not _plain_digits(raw):
            words = expectation(field.type, raw)
            raise web.HTTPBadRequest(reason=f"query parameter '{field.encode_name}' {words}")
    try:
        return msgspec.convert(given, message, strict=False)
    except msgspec.ValidationError as error:
        name, words = refusal(str(error), given, message)
        raise web.HTTPBadRequest(reason=f"query parameter '{name}' {words}") from error


def _is_int(kind: msgspec.inspect.Type) -> bool:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    return isinstance(kind, msgspec.inspect.IntType)


def _plain_digits(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= 12


def plain_http_warning(config: NodeConfig) -> dict[str, Any]:
    """What /healthz adds while ``[federation] allow_plain_http`` is on (nothing otherwise)."""
    if not config.allow_plain_http:
        return {}
    return {"allow_plain_http": True, "warning": PLAIN_HTTP_WARNING}


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness for supervisors: no auth, no record content. With ``?verbose``: the node's
    status (:mod:`node.status`), in full for a signed-in member, as counts to anyone else."""
    node = request.app[NODE]
    node.db.execute("SELECT 1").fetchone()
    if "verbose" not in request.query:
        return web.json_response(
            {
                "status": "ok",
                "version": __version__,
                "sealed": node.sealed,  # False: the home lies in plain text on disk
                **plain_http_warning(node.config),
            }
        )
    member = await current_member(request, node)
    key = node.keys.database_key()
    found = await asyncio.to_thread(
        node_status_in_thread, node.paths, node.node_id, node.config.name, key
    )
    return web.json_response(status_json(found) if member else counts_json(found))


def readable_node(request: web.Request) -> Node:
    """The node, for a request the access layer let in (a member, or a public reader)."""
    return request.app[NODE]


async def operator_node(request: web.Request) -> Node:
    """The node, for data only its members see (peers, members, logs, policy, quarantine):
    never for a public reader, whatever route let them in."""
    node = request.app[NODE]
    if public_only(request) or await current_member(request, node) is None:
        raise NotSignedIn("sign in (or send HTTP Basic credentials or an API token) first")
    return node


def challenge_basic(handler: Handler) -> Handler:
    """Answer a 401 with ``WWW-Authenticate`` (RFC 9110), so HTTP clients offer Basic."""

    @functools.wraps(handler)
    async def challenged(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotSignedIn as error:
            response = error_response(error.http_status, error.code, str(error))
            response.headers["WWW-Authenticate"] = BASIC_CHALLENGE
            return response

    return challenged


@routes.get("/api/v1/lessons", name="api_lessons")
async def list_lessons(request: web.Request) -> web.Response:
    """Newest versions, or ranked search results with ``?q=``; ``limit`` and ``offset`` page,
    and the list's ``after`` and ``before`` cursors (archive.listing)."""
    node = readable_node(request)
    asked = query_of(request, LessonQuery)
    limit, offset, query = asked.limit, asked.offset, asked.q
    filters = RecordFilters(
        kind=asked.kind, language=asked.language, region=asked.region, tag=asked.tag,
        scope="public" if public_only(request) else None,
    )  # fmt: skip
    if query:
        asked_search = reading.SearchLessons(query, filters, limit, offset)
        hits = await in_worker_thread(node, reading.search_lessons, asked_search)
        return web.json_response({"lessons": [hit_json(hit) for hit in hits], "query": query})
    page = await in_worker_thread(
        node,
        reading.list_lessons,
        reading.ListLessons(filters, limit, asked.after, asked.before, offset),
    )
    return web.json_response(
        {
            "lessons": [summary_json(record) for record in page.lessons],
            "total": page.total,
            "total_exact": page.total_exact,
            "next": page.older,
            "previous": page.newer,
        }
    )


@routes.get("/api/v1/lessons/{id}", name="api_lesson")
async def show_lesson(request: web.Request) -> web.Response:
    node = readable_node(request)
    record_id = node.resolve_id(request.match_info["id"])
    if public_only(request):
        return web.json_response(public_lesson_detail(node.db, record_id))
    return web.json_response(lesson_detail(node.db, record_id, node.node_id, node.now()))


# ---- operator data ------------------------------------------------------------------------


@routes.get("/api/v1/lessons/{id}/receipts", name="api_lesson_receipts")
async def lesson_receipts(request: web.Request) -> web.Response:
    """For a revoked lesson: every node that held it, purged (signed receipt) or pending."""
    node = await operator_node(request)
    record_id = resolve_revoked_id(node.db, request.match_info["id"])
    revocation_id, holders = receipt_status(node.db, record_id)
    rows = [holder_json(node.db, holder) for holder in holders]
    return web.json_response(
        {
            "record": record_id,
            "revocation": revocation_id,
            "purged": sum(1 for row in rows if row["status"] == "purged"),
            "pending": sum(1 for row in rows if row["status"] == "pending"),
            "holders": rows,
        }
    )


@routes.get("/api/v1/peers", name="api_peers")
@challenge_basic
async def peers(request: web.Request) -> web.Response:
    node = await operator_node(request)
    return web.json_response({"peers": [peer_json(node.db, peer) for peer in list_peers(node.db)]})


@routes.get("/api/v1/policy", name="api_policy")
@challenge_basic
async def policy(request: web.Request) -> web.Response:
    """The policy in force: its hash and the text of policy.toml."""
    node = await operator_node(request)
    in_force = node.policy()
    text = node.paths.policy.read_text(encoding="utf-8")
    return web.json_response({"hash": in_force.hash, "text": text})


@routes.get("/api/v1/policy/explain", name="api_policy_explain")
@challenge_basic
async def explain(request: web.Request) -> web.Response:
    """Whether ``record`` may go to ``peer`` under the policy in force, and why."""
    node = await operator_node(request)
    asked = query_of(request, ExplainQuery)
    record_id = node.resolve_id(asked.record)
    peer = resolve_peer(node.db, asked.peer)
    decision = Offer(node.db, node.node_id, node.policy(), node.now()).explain(record_id, peer)
    assert decision is not None  # resolve_id found the record
    return web.json_response(explanation_json(record_id, peer, decision))


@routes.get("/api/v1/decisions", name="api_decisions")
@challenge_basic
async def decisions(request: web.Request) -> web.Response:
    """The latest sharing decisions, newest first; ``record`` narrows to one record."""
    node = await operator_node(request)
    asked = query_of(request, DecisionQuery)
    record_id = node.resolve_id(asked.record) if asked.record else None
    entries = recent_decisions(node.db, asked.limit, record_id)
    return web.json_response({"decisions": [decision_json(entry) for entry in entries]})


@routes.get("/api/v1/events", name="api_events")
@challenge_basic
async def events(request: web.Request) -> web.Response:
    """The latest entries of the signed event log, newest first (ids and counts only)."""
    node = await operator_node(request)
    limit = query_of(request, LogQuery).limit
    return web.json_response({"events": [event_json(e) for e in recent_events(node.db, limit)]})


@routes.get("/api/v1/members", name="api_members")
@challenge_basic
async def members(request: web.Request) -> web.Response:
    node = await operator_node(request)
    return web.json_response({"members": [member_json(m) for m in list_members(node.db)]})


@routes.get("/api/v1/quarantine", name="api_quarantine")
@challenge_basic
async def quarantine(request: web.Request) -> web.Response:
    """Lessons from peers that wait for a curator to accept or reject them."""
    node = await operator_node(request)
    records = quarantined_records(node.db)
    return web.json_response({"lessons": [summary_json(record) for record in records]})
