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

import logging

from aiohttp import web

from archive.errors import InvalidLesson
from archive.lesson_file import draft_from_fields
from archive.lesson_sources import Outcome
from node.actions import in_worker_thread
from node.actions import lessons as actions
from node.actions import peers as peer_actions
from node.actions.consent import WithdrawSubject, withdraw_subject
from node.actions.lessons import (
    AddLesson,
    ApproveLesson,
    ReviewQuarantined,
    RevokeLesson,
)
from node.actions.peers import (
    ChangePeerStatus,
    InvitePeer,
    PairWithInvite,
    pair_with_invite,
    set_peer_status,
)
from node.node import Node
from node.peer_sync import with_peer_client
from node.serialize import iso_time, peer_json
from node.web.api import NODE, challenge_basic
from node.web.api_types import (
    InviteInput,
    NoFields,
    PairInput,
    RevokeInput,
    WithdrawSubjectInput,
)
from node.web.auth import acting_member, writing_member
from node.web.json_bodies import MAX_JSON_BYTES, body_of, json_object
from node.web.keys import SYNC, wake_outbox

__all__ = ["MAX_JSON_BYTES", "routes"]  # the limit is documented with the write routes
LESSON = "lesson"  # how InvalidLesson names the request: "lesson: field 'kind': …"

log = logging.getLogger("rhizome.api")
routes = web.RouteTableDef()


# ---- lessons ------------------------------------------------------------------------------


@routes.post("/api/v1/lessons", name="api_lesson_add")
@challenge_basic
async def add_lesson(request: web.Request) -> web.Response:
    """Sign and store a new lesson: the fields of a lesson file's front matter, plus ``body``
    (the Markdown text). The same checks as ``rhizome lesson add``: the same lesson again is
    not stored twice (200 with ``already_here``: true and its id; 409 ``withdrawn`` if it was
    withdrawn)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "lesson.add")
    fields = await json_object(request)
    body = fields.pop("body", None)
    if not isinstance(body, str):
        raise InvalidLesson(LESSON, "body", "is required and must be text (Markdown)")
    draft = draft_from_fields(fields, body.strip("\n") + "\n", LESSON)
    # The same lesson twice is stored once; signing and indexing run off the event loop.
    intake = await in_worker_thread(node, actions.add_lesson, AddLesson(member, draft, LESSON))
    record_id = intake.record_id
    assert record_id is not None
    location = {"Location": str(request.app.router["api_lesson"].url_for(id=record_id))}
    if intake.outcome is Outcome.ALREADY_HERE:
        log.info("lesson already here", extra={"record": record_id, "member": member.name})
        return web.json_response({"id": record_id, "already_here": True}, headers=location)
    log.info("lesson added", extra={"record": record_id, "member": member.name})
    return web.json_response({"id": record_id}, status=201, headers=location)


@routes.post("/api/v1/lessons/{id}/approve", name="api_lesson_approve")
@challenge_basic
async def approve_lesson(request: web.Request) -> web.Response:
    """Approve this exact version for sharing, signed with the member's key (curators)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "lesson.approve")
    await body_of(request, NoFields, required=False)
    asked = ApproveLesson(member, request.match_info["id"])
    done = await in_worker_thread(node, actions.approve_lesson, asked)
    record_id, new = done.record.id, done.new
    log.info("lesson approved", extra={"record": record_id, "member": member.name, "new": new})
    return web.json_response({"id": record_id, "member": member.name, "new": new})


@routes.post("/api/v1/lessons/{id}/accept", name="api_lesson_accept")
@challenge_basic
async def accept_lesson(request: web.Request) -> web.Response:
    """Let a quarantined lesson from a peer show in list and search."""
    node, asked = await _review(request)
    record_id = await in_worker_thread(node, actions.accept_lesson, asked)
    log.info("lesson accepted", extra={"record": record_id, "member": asked.by.name})
    return web.json_response({"id": record_id, "status": "accepted"})


@routes.post("/api/v1/lessons/{id}/reject", name="api_lesson_reject")
@challenge_basic
async def reject_lesson(request: web.Request) -> web.Response:
    """Refuse a quarantined lesson: it is purged and never fetched again."""
    node, asked = await _review(request)
    record_id = await in_worker_thread(node, actions.reject_lesson, asked)  # purges: off the loop
    log.info("lesson rejected", extra={"record": record_id, "member": asked.by.name})
    return web.json_response({"id": record_id, "status": "rejected"})


async def _review(request: web.Request) -> tuple[Node, ReviewQuarantined]:
    node = request.app[NODE]
    member = await acting_member(request, node, "lesson.review")
    await body_of(request, NoFields, required=False)
    return node, ReviewQuarantined(member, request.match_info["id"])


@routes.post("/api/v1/lessons/{id}/revoke", name="api_lesson_revoke")
@challenge_basic
async def revoke_lesson(request: web.Request) -> web.Response:
    """Withdraw a lesson, with all its versions and translations, from every node.

    Its author may, and stewards and admins may revoke any lesson written on this node. It
    is purged here at once; the running node tells every holder (see ``…/receipts``).
    """
    node = request.app[NODE]
    member = await writing_member(request, node)
    # Who may withdraw it is decided before the body is read, as for every write.
    record_id = actions.revoker(node, member, request.match_info["id"]).id
    fields = await body_of(request, RevokeInput)
    reason, note = fields.reason, fields.note
    asked = RevokeLesson(member, record_id, reason, note)
    revoked = await in_worker_thread(node, actions.revoke_lesson, asked)  # purges: off the loop
    wake_outbox(request.app)  # the running node sends it to every holder now
    log.info(
        "lesson revoked",
        extra={
            "record": record_id,
            "revocation": revoked.revocation_id,
            "records": len(revoked.record_ids),
            "reason": reason,
            "member": member.name,
        },
    )
    receipts = request.app.router["api_lesson_receipts"].url_for(id=record_id)
    return web.json_response(
        {
            "id": record_id,
            "revocation": revoked.revocation_id,
            "records": list(revoked.record_ids),
            "receipts": str(receipts),
        }
    )


@routes.post("/api/v1/lessons/{id}/consent/withdraw", name="api_consent_withdraw")
@challenge_basic
async def withdraw_consent(request: web.Request) -> web.Response:
    """One participant withdraws consent to the photos and recordings of a lesson (as
    ``rhizome consent withdraw``): a new signed version without their attachments; the files
    are purged here at once and the running node tells every holder (receipts follow).

    The lesson's author here, stewards and admins may, as for withdrawing the lesson."""
    node = request.app[NODE]
    member = await writing_member(request, node)
    record_id = actions.revoker(node, member, request.match_info["id"]).id  # before the body
    subject = (await body_of(request, WithdrawSubjectInput)).subject
    asked = WithdrawSubject(member, record_id, subject)
    done = await in_worker_thread(node, withdraw_subject, asked)  # signs and purges: off the loop
    if done.revocation_id is not None:
        wake_outbox(request.app)  # the running node tells every holder now
    log.info(  # never the pseudonym in a log line
        "consent withdrawn",
        extra={"record": record_id, "version": done.new_version, "files": len(done.files),
               "revocation": done.revocation_id, "member": member.name},
    )  # fmt: skip
    answer = {
        "id": done.new_version, "subject": subject, "files": list(done.files),
        "revocation": done.revocation_id,
    }  # fmt: skip
    return web.json_response(answer)


# ---- peers --------------------------------------------------------------------------------


@routes.post("/api/v1/peers/invite", name="api_peer_invite")
@challenge_basic
async def invite_peer(request: web.Request) -> web.Response:
    """A one-time invite code for another hub, valid ``ttl`` seconds (default one day)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "peer.manage")
    ttl = (await body_of(request, InviteInput, required=False)).ttl
    invitation = peer_actions.invite_peer(node, InvitePeer(member, ttl))
    log.info("invite created", extra={"expires": invitation.expires})  # never the code: a secret
    body = {
        "code": invitation.code,
        "node_id": invitation.node_id,
        "url": invitation.url,
        "expires": iso_time(invitation.expires),
    }
    return web.json_response(body, status=201)


@routes.post("/api/v1/peers", name="api_peer_add")
@challenge_basic
async def add_peer(request: web.Request) -> web.Response:
    """Pair with the hub that gave us ``code`` (it must be running)."""
    node = request.app[NODE]
    member = await acting_member(request, node, "peer.manage")
    asked = PairWithInvite(member, (await body_of(request, PairInput)).code)
    service = request.app.get(SYNC)
    peer = await with_peer_client(service, node, lambda client: pair_with_invite(client, asked))
    log.info("peer paired", extra={"peer": peer.node_id})
    return web.json_response(peer_json(node.db, peer), status=201)


@routes.post("/api/v1/peers/{peer}/suspend", name="api_peer_suspend")
@challenge_basic
async def suspend_peer(request: web.Request) -> web.Response:
    """Stop exchanging with this peer (node id or name) until it is resumed."""
    return await _change_status(request, "suspend")


@routes.post("/api/v1/peers/{peer}/resume", name="api_peer_resume")
@challenge_basic
async def resume_peer(request: web.Request) -> web.Response:
    return await _change_status(request, "resume")


@routes.post("/api/v1/peers/{peer}/remove", name="api_peer_remove")
@challenge_basic
async def remove_peer(request: web.Request) -> web.Response:
    """Stop trusting this peer; records it already has stay listed, for revocation."""
    return await _change_status(request, "remove")


async def _change_status(request: web.Request, event: str) -> web.Response:
    node = request.app[NODE]
    member = await acting_member(request, node, "peer.manage")
    await body_of(request, NoFields, required=False)
    changed = set_peer_status(node, ChangePeerStatus(member, request.match_info["peer"], event))
    extra = {"peer": changed.node_id, "status": changed.status, "member": member.name}
    log.info("peer status", extra=extra)
    return web.json_response(peer_json(node.db, changed))
