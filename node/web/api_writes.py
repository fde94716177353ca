"""The JSON API's writes under ``/api/v1/``: the same actions as the CLI, through the same
functions, with the same role checks.

Every write is checked at the edge, in this order: who is asking (401 without credentials,
403 ``csrf`` for a session without its ``X-CSRF-Token`` header, 403 when the member's roles
do not allow the action), then the media type (415: every write says ``application/json``,
even one without a body, which no cross-site form can), the body's size (413, before and
while it is read, never past :data:`MAX_JSON_BYTES`), its syntax (400) and each field's type
(400 naming the field). Only then does the action run; a refused request stores nothing.
Log lines name ids and counts, never a lesson's title or text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import aiohttp
from aiohttp import web

from archive.db import transaction
from archive.errors import InvalidLesson
from archive.event_log import append_event
from archive.lesson_file import draft_from_fields
from archive.queries import record_summary
from crypto.errors import RhizomeError
from federation.bodies import BodyOverLimit, read_capped
from federation.client import PeerClient
from federation.invites import DEFAULT_TTL, create_invite, encode_invite
from federation.pairing import join_with_invite
from federation.peers import get_peer, resolve_peer, set_status
from federation.propagation import revoke as revoke_record
from federation.revocation import REASONS, Actor
from federation.routes import GATE
from governance.approvals import approve as approve_record
from governance.members import Member
from governance.quarantine import accept_quarantined, reject_quarantined
from governance.roles import NotAllowed
from node.node import Node
from node.serialize import iso_time, peer_json
from node.web.api import NODE, challenge_basic
from node.web.auth import (
    NotSignedIn,
    acting_member,
    check_credentials,
    csrf_token,
    current_member,
    sign_in,
    sign_out,
)
from node.web.keys import SYNC

MAX_JSON_BYTES = 1024 * 1024
MAX_NOTE_CHARS = 2_000
MAX_CODE_CHARS = 1_000
MAX_NAME_CHARS = 64
MAX_PASSWORD_CHARS = 1_024
MIN_INVITE_TTL = 60
MAX_INVITE_TTL = 7 * 24 * 3600
JSON_TYPE = "application/json"
LESSON = "lesson"  # how InvalidLesson names the request: "lesson: field 'kind': …"

log = logging.getLogger("rhizome.api")
routes = web.RouteTableDef()
T = TypeVar("T")


class NotJson(RhizomeError):
    """Write routes take a JSON object: send it with ``Content-Type: application/json``."""

    http_status = 415
    code = "unsupported_media_type"


class JsonTooLarge(RhizomeError):
    """The JSON body is larger than the limit (1 MiB); nothing was stored. A lesson's body
    is limited well below that anyway."""

    http_status = 413
    code = "payload_too_large"


class BadInput(RhizomeError):
    """The body is not a JSON object, or a field is missing, unknown or of the wrong type.
    The message names the field: fix it and send again (nothing was stored)."""

    http_status = 400
    code = "bad_request"


# ---- reading and checking bodies ----------------------------------------------------------


async def json_object(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object, checked cheapest first: media type, size, syntax.

    Every write must say ``Content-Type: application/json``, even with no body: a page on
    another site can make a browser post a form (with any credentials the browser holds for
    this node) but cannot set that type without a CORS preflight, which we never allow.
    Routes whose fields are all optional pass ``required=False``: then no body is ``{}``.
    """
    if request.content_type != JSON_TYPE:
        raise NotJson(f"send a JSON object with Content-Type: {JSON_TYPE}")
    if not required and not request.body_exists:
        return {}
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise JsonTooLarge(f"the body is larger than the limit of {MAX_JSON_BYTES:,} bytes")
    try:
        raw = await read_capped(request.content, MAX_JSON_BYTES)
    except BodyOverLimit as error:
        raise JsonTooLarge(
            f"the body is larger than the limit of {MAX_JSON_BYTES:,} bytes"
        ) from error
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise BadInput(f"the body is not UTF-8 (bad byte at offset {error.start})") from error
    except json.JSONDecodeError as error:
        raise BadInput(
            f"the body is not valid JSON: {error.msg} at character {error.pos}"
        ) from error
    except (ValueError, RecursionError) as error:
        raise BadInput(f"the body is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise BadInput("the body must be a JSON object")
    return value


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def only_fields(fields: dict[str, Any], *known: str) -> None:
    unknown = sorted(name for name in fields if name not in known)
    if unknown:
        accepted = ", ".join(known) if known else "none"
        raise BadInput(f"field '{unknown[0]}': unknown field (this route takes: {accepted})")


def text_field(
    fields: dict[str, Any],
    name: str,
    max_chars: int,
    *,
    required: bool = False,
    choices: tuple[str, ...] = (),
) -> str | None:
    value = fields.get(name)
    if value is None:
        if required:
            raise BadInput(f"field '{name}': is required")
        return None
    if not isinstance(value, str):
        raise BadInput(f"field '{name}': must be text")
    if len(value) > max_chars:
        raise BadInput(f"field '{name}': longer than the limit of {max_chars:,} characters")
    if choices and value not in choices:
        raise BadInput(f"field '{name}': must be one of {', '.join(choices)}")
    return value


def whole_number_field(fields: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"field '{name}': must be a whole number from {low:,} to {high:,}")
    return value


# ---- sign-in ------------------------------------------------------------------------------


@routes.get("/api/v1/session", name="api_session")
async def session_info(request: web.Request) -> web.Response:
    """Who this client is signed in as, and the CSRF token its session writes must send."""
    member = await current_member(request, request.app[NODE])
    return web.json_response(session_json(member, await csrf_token(request)))


@routes.post("/api/v1/session", name="api_sign_in")
async def session_sign_in(request: web.Request) -> web.Response:
    """Sign in with a member's name and password; the answer carries the CSRF token."""
    fields = await json_object(request)
    only_fields(fields, "name", "password")
    name = text_field(fields, "name", MAX_NAME_CHARS, required=True)
    password = text_field(fields, "password", MAX_PASSWORD_CHARS, required=True)
    assert name is not None and password is not None
    member = check_credentials(request.app[NODE], name, password)
    if member is None:
        log.warning("sign-in refused", extra={"remote": request.remote})
        raise NotSignedIn("wrong member name or password")
    await sign_in(request, member)
    log.info("signed in", extra={"member": member.name})
    return web.json_response(session_json(member, await csrf_token(request)))


@routes.delete("/api/v1/session", name="api_sign_out")
async def session_sign_out(request: web.Request) -> web.Response:
    await sign_out(request)
    return web.json_response({"member": None, "roles": []})


def session_json(member: Member | None, token: str) -> dict[str, Any]:
    return {
        "member": None if member is None else member.name,
        "roles": [] if member is None else list(member.roles),
        "csrf_token": token,
    }


# ---- lessons ------------------------------------------------------------------------------


@routes.post("/api/v1/lessons", name="api_lesson_add")
@challenge_basic
async def add_lesson(request: web.Request) -> web.Response:
    """Sign and store a new lesson: the fields of a lesson file's front matter, plus ``body``
    (the Markdown text). The same checks as ``rhizome lesson add``."""
    node = request.app[NODE]
    member = await acting_member(request, node, "lesson.add")
    fields = await json_object(request)
    body = fields.pop("body", None)
    if not isinstance(body, str):
        raise InvalidLesson(LESSON, "body", "is required and must be text (Markdown)")
    draft = draft_from_fields(fields, body.strip("\n") + "\n", LESSON)
    lesson = node.lesson_from_draft(draft, LESSON, member.name)
    record = node.writer.add_lesson(lesson, LESSON)
    log.info("lesson added", extra={"record": record.id_hex, "member": member.name})
    location = request.app.router["api_lesson"].url_for(id=record.id_hex)
    return web.json_response({"id": record.id_hex}, status=201, headers={"Location": str(location)})


@routes.post("/api/v1/lessons/{id}/approve", name="api_lesson_approve")
@challenge_basic
async def approve_lesson(request: web.Request) -> web.Response:
    """Approve this exact version for sharing, signed with the member's key (curators)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "lesson.approve")
    only_fields(await json_object(request, required=False))
    record_id = node.resolve_id(request.match_info["id"])
    summary = record_summary(node.db, record_id)
    own = summary.origin == node.node_id and summary.author == member.name
    new = approve_record(
        node.db, node.identity, member, node.member_identity(member.name), record_id, own,
        node.now(),
    )  # fmt: skip
    log.info("lesson approved", extra={"record": record_id, "member": member.name, "new": new})
    return web.json_response({"id": record_id, "member": member.name, "new": new})


@routes.post("/api/v1/lessons/{id}/accept", name="api_lesson_accept")
@challenge_basic
async def accept_lesson(request: web.Request) -> web.Response:
    """Let a quarantined lesson from a peer show in list and search."""
    node, member, record_id = await _review(request)
    accept_quarantined(node.db, node.identity, record_id, member.name, node.now())
    log.info("lesson accepted", extra={"record": record_id, "member": member.name})
    return web.json_response({"id": record_id, "status": "accepted"})


@routes.post("/api/v1/lessons/{id}/reject", name="api_lesson_reject")
@challenge_basic
async def reject_lesson(request: web.Request) -> web.Response:
    """Refuse a quarantined lesson: it is purged and never fetched again."""
    node, member, record_id = await _review(request)
    reject_quarantined(node.db, node.identity, record_id, member.name, node.now())
    log.info("lesson rejected", extra={"record": record_id, "member": member.name})
    return web.json_response({"id": record_id, "status": "rejected"})


async def _review(request: web.Request) -> tuple[Node, Member, str]:
    node = request.app[NODE]
    member = await acting_member(request, node, "lesson.review")
    only_fields(await json_object(request, required=False))
    return node, member, node.resolve_id(request.match_info["id"])


@routes.post("/api/v1/lessons/{id}/revoke", name="api_lesson_revoke")
@challenge_basic
async def revoke_lesson(request: web.Request) -> web.Response:
    """Withdraw a lesson, with all its versions and translations, from every node.

    Its author may, and stewards and admins may revoke any lesson written on this node. It
    is purged here at once; the running node tells every holder (see ``…/receipts``).
    """
    node = request.app[NODE]
    member, record_id = await _revoker(request, node)
    fields = await json_object(request)
    only_fields(fields, "reason", "note")
    reason = text_field(fields, "reason", 64, required=True, choices=REASONS)
    note = text_field(fields, "note", MAX_NOTE_CHARS)
    assert reason is not None
    actor = Actor(member.name, node.member_identity(member.name), member.certificate)
    revocation = revoke_record(node.local_node(), record_id, actor, reason, note)
    gate = request.app.get(GATE)
    if gate is not None:
        gate.responder.on_outbox()  # the running node sends it to every holder now
    log.info(
        "lesson revoked",
        extra={
            "record": record_id,
            "revocation": revocation.revocation_id,
            "records": len(revocation.record_ids),
            "reason": reason,
            "member": member.name,
        },
    )
    receipts = request.app.router["api_lesson_receipts"].url_for(id=record_id)
    return web.json_response(
        {
            "id": record_id,
            "revocation": revocation.revocation_id,
            "records": list(revocation.record_ids),
            "receipts": str(receipts),
        }
    )


async def _revoker(request: web.Request, node: Node) -> tuple[Member, str]:
    """The member who may revoke this lesson: a steward or admin, or its author here."""
    try:
        member = await acting_member(request, node, "lesson.revoke")
    except NotAllowed:
        # Signed in, and the CSRF token checked: only the role was missing.
        author = await current_member(request, node)
        assert author is not None
        record_id = node.resolve_id(request.match_info["id"])
        summary = record_summary(node.db, record_id)
        if summary.origin == node.node_id and summary.author == author.name:
            return author, record_id
        raise NotAllowed(
            f"{author.name} may revoke only their own lessons (stewards and admins any)"
        ) from None
    return member, node.resolve_id(request.match_info["id"])


# ---- peers --------------------------------------------------------------------------------


@routes.post("/api/v1/peers/invite", name="api_peer_invite")
@challenge_basic
async def invite_peer(request: web.Request) -> web.Response:
    """A one-time invite code for another hub, valid ``ttl`` seconds (default one day)."""
    node = request.app[NODE]
    await acting_member(request, node, "peer.manage")
    fields = await json_object(request, required=False)
    only_fields(fields, "ttl")
    ttl = whole_number_field(fields, "ttl", DEFAULT_TTL, MIN_INVITE_TTL, MAX_INVITE_TTL)
    code = create_invite(node.db, node.node_id, node.config.url, node.now(), ttl)
    log.info("invite created", extra={"expires": code.expires})  # never the code: a secret
    body = {
        "code": encode_invite(code),
        "node_id": node.node_id,
        "url": code.url,
        "expires": iso_time(code.expires),
    }
    return web.json_response(body, status=201)


@routes.post("/api/v1/peers", name="api_peer_add")
@challenge_basic
async def add_peer(request: web.Request) -> web.Response:
    """Pair with the hub that gave us ``code`` (it must be running)."""
    node = request.app[NODE]
    await acting_member(request, node, "peer.manage")
    fields = await json_object(request)
    only_fields(fields, "code")
    code = text_field(fields, "code", MAX_CODE_CHARS, required=True)
    assert code is not None
    peer = await with_peer_client(request, lambda client: join_with_invite(client, code))
    log.info("peer paired", extra={"peer": peer.node_id})
    return web.json_response(peer_json(node.db, peer), status=201)


async def with_peer_client(request: web.Request, work: Callable[[PeerClient], Awaitable[T]]) -> T:
    """Run ``work`` with the background sync's client, or one made for this request."""

    service = request.app.get(SYNC)
    if service is not None:
        return await work(service.client)
    async with aiohttp.ClientSession() as session:
        return await work(PeerClient(request.app[NODE].local_node(), session))


@routes.post("/api/v1/peers/{peer}/suspend", name="api_peer_suspend")
@challenge_basic
async def suspend_peer(request: web.Request) -> web.Response:
    """Stop exchanging with this peer (node id or name) until it is resumed."""
    return await _change_status(request, "suspended")


@routes.post("/api/v1/peers/{peer}/resume", name="api_peer_resume")
@challenge_basic
async def resume_peer(request: web.Request) -> web.Response:
    return await _change_status(request, "active")


@routes.post("/api/v1/peers/{peer}/remove", name="api_peer_remove")
@challenge_basic
async def remove_peer(request: web.Request) -> web.Response:
    """Stop trusting this peer; records it already has stay listed, for revocation."""
    return await _change_status(request, "removed")


async def _change_status(request: web.Request, status: str) -> web.Response:
    node = request.app[NODE]
    member = await acting_member(request, node, "peer.manage")
    only_fields(await json_object(request, required=False))
    found = resolve_peer(node.db, request.match_info["peer"])
    with transaction(node.db):
        set_status(node.db, found.node_id, status)
        append_event(node.db, node.identity, f"peer.{status}", found.node_id, {}, node.now())
    log.info("peer status", extra={"peer": found.node_id, "status": status, "member": member.name})
    changed = get_peer(node.db, found.node_id)
    assert changed is not None
    return web.json_response(peer_json(node.db, changed))
