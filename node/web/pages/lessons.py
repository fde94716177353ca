"""One lesson: its page, approving it, withdrawing it, and the receipts of a withdrawal."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web
from markupsafe import Markup

from archive.errors import UnknownRecord
from archive.key_store import node_for_key
from archive.queries import history, load_record, record_summary, translations
from archive.tombstones import resolve_revoked_id, revocation_with_note
from federation.ledger import sent_to
from federation.peers import list_peers
from federation.propagation import receipt_status
from federation.revocation import REASONS, open_revocation
from federation.sharing import Offer
from governance.approvals import approvals_of, is_self_approval
from governance.members import Member
from governance.quarantine import is_quarantined
from governance.roles import may, may_revoke
from governance.versions import may_supersede
from node.actions import in_worker_thread
from node.actions import lessons as actions
from node.actions.lessons import ApproveLesson, RevokeLesson
from node.i18n import gettext as _
from node.i18n import ngettext
from node.node import Node
from node.serialize import public_record
from node.web.access import public_only
from node.web.api_types import MAX_NOTE_CHARS  # the same limit as the API's
from node.web.auth import acting_member, current_member, writing_member
from node.web.keys import wake_outbox
from node.web.pages.attachments import attachment_items
from node.web.pages.common import (
    field,
    flash,
    form_of,
    html_page,
    local_path,
    node_of,
    peer_names,
    readable,
    render,
    see_other,
)
from node.web.pages.markdown import render_body
from node.web.pages.words import (
    LABEL_WORDS,
    consent_terms,
    peer_label,
    reason_words,
    subject_words,
)

routes = web.RouteTableDef()
REFRESH_SECONDS = 2


@routes.get("/lessons/{id}", name="page_lesson")
@html_page
async def lesson_page(request: web.Request) -> web.Response:
    node = await readable(request)
    text = request.match_info["id"]
    if public_only(request):
        context = public_lesson_context(node, node.resolve_id(text))
        return await render(request, "lesson.html", context)
    try:
        record_id = node.resolve_id(text)
    except UnknownRecord:
        revoked = _revoked(node, text)
        if revoked is None:
            raise
        return see_other(f"/revocations/{revoked}")
    member = await current_member(request, node)
    return await render(request, "lesson.html", lesson_context(node, record_id, member))


def _revoked(node: Node, text: str) -> str | None:
    try:
        return resolve_revoked_id(node.db, text)
    except UnknownRecord:
        return None


def lesson_context(
    node: Node, record_id: str, member: Member | None, **form: Any
) -> dict[str, Any]:
    """Everything the lesson page shows, read fresh (the record verified again)."""
    db = node.db
    summary = record_summary(db, record_id)
    lesson = load_record(db, record_id).lesson
    own = summary.origin == node.node_id
    names = peer_names(node)
    versions = history(db, record_id)
    newest = not versions or versions[-1].id == record_id
    approvals = approvals_of(db, record_id, summary.author if own else None)
    name = member.name if member else ""
    roles = member.roles if member else ()
    author_here = summary.author if own else None
    return {
        "record": summary,
        "lesson": lesson,
        "body": Markup(render_body(lesson.body)),  # sanitized by nh3
        "label_words": LABEL_WORDS,
        "own": own,
        "origin_name": "this hub" if own else peer_label(summary.origin, names),
        "received_from": summary.received_from and peer_label(summary.received_from, names),
        "consent_terms": consent_terms(lesson.consent, names),
        "subjects": [(s.pseudonym, subject_words(s)) for s in lesson.consent.subjects],
        "versions": versions,
        "newest": newest,
        "translations": translations(db, record_id),
        "approvals": approvals,
        "approvals_counted": sum(1 for approval in approvals if approval.counts),
        "approvals_needed": node.policy().approvals_needed(summary.sensitivity),
        "quarantined": is_quarantined(db, record_id),
        "deliveries": _deliveries(node, record_id, names),
        "sharing": _sharing(node, record_id),
        "attachments": attachment_items(node, record_id),
        "can_edit": own and newest and may(roles, "lesson.add")
        and may_supersede(name, roles, summary.author),
        "can_approve": may(roles, "lesson.approve")
        and not is_self_approval(name, summary.author, summary.origin, node.node_id)
        and not any(member and approval.member == member.name for approval in approvals),
        "can_revoke": member is not None and may_revoke(name, roles, author_here),
        "reasons": [(code, reason_words(code)) for code in REASONS],
        "revoke_error": form.get("revoke_error"),
        "revoke_reason": form.get("revoke_reason", ""),
        "revoke_note": form.get("revoke_note", ""),
        # One participant's consent to the files (pages/consent.py): a new version, so only
        # on the newest version of a lesson written here.
        "can_withdraw_consent": own and newest and bool(lesson.consent.subjects)
        and member is not None and may_revoke(name, roles, author_here),
        "consent_error": form.get("consent_error"),
        "consent_subject": form.get("consent_subject", ""),
    }


def public_lesson_context(node: Node, record_id: str) -> dict[str, Any]:
    """The lesson page for a public reader (``[server] public_read``): a lesson of consent
    scope public, its public versions and translations, and no name of a peer or member."""
    summary = public_record(node.db, record_id)
    context = lesson_context(node, record_id, None)
    own = summary.origin == node.node_id
    return {
        **context,
        "origin_name": "this hub" if own else "another hub",
        "received_from": None,
        "consent_terms": consent_terms(context["lesson"].consent, {}),
        "versions": [v for v in context["versions"] if v.scope == "public"],
        "translations": [t for t in context["translations"] if t.scope == "public"],
        "approvals": [],
        "approvals_counted": 0,
        "deliveries": [],
        "sharing": [],
    }


def _deliveries(node: Node, record_id: str, names: dict[str, str]) -> list[tuple[str, int]]:
    """(peer, when) for each peer this hub sent the lesson to."""
    return [(names.get(peer_id, peer_id), at) for peer_id, at in sent_to(node.db, record_id)]


def _sharing(node: Node, record_id: str) -> list[tuple[str, Any]]:
    """The outbound decision for each active peer, with its reasons."""
    sharing = Offer(node.db, node.node_id, node.policy(), node.now())
    return [
        (peer.name, sharing.explain(record_id, peer))
        for peer in list_peers(node.db)
        if peer.status == "active"
    ]


@routes.post("/lessons/{id}/approve", name="page_approve")
@html_page
async def approve(request: web.Request) -> web.Response:
    """A curator's signed approval of this exact version (as ``rhizome lesson approve``)."""
    node = node_of(request)
    member = await acting_member(request, node, "lesson.approve")
    done = await in_worker_thread(
        node, actions.approve_lesson, ApproveLesson(member, request.match_info["id"])
    )
    said = _("Approved “{title}” as {name}.") if done.new else _(
        "You had already approved “{title}” as {name}."
    )
    await flash(request, said.format(title=done.record.title, name=member.name))
    form = await form_of(request)
    return see_other(local_path(field(form, "next", 500), f"/lessons/{done.record.id}"))


@routes.post("/lessons/{id}/revoke", name="page_revoke")
@html_page
async def revoke(request: web.Request) -> web.Response:
    """Withdraw the lesson everywhere (as ``rhizome revoke``): its author, a steward or an
    admin, on the node where it was written."""
    node = node_of(request)
    member = await writing_member(request, node)
    full_id = actions.revoker(node, member, request.match_info["id"]).id
    form = await form_of(request)
    reason, note = field(form, "reason", 100), field(form, "note", MAX_NOTE_CHARS).strip()
    if reason not in REASONS:
        context = lesson_context(
            node, full_id, member, revoke_error=_("Choose why the lesson is withdrawn."),
            revoke_reason=reason, revoke_note=note,
        )  # fmt: skip
        return await render(request, "lesson.html", context, status=400)
    asked = RevokeLesson(member, full_id, reason, note or None)
    revoked = await in_worker_thread(node, actions.revoke_lesson, asked)  # purges: off the loop
    wake_outbox(request.app)  # tell every holder now, not at the next poll
    count, title = len(revoked.record_ids), revoked.record.title
    withdrawn = ngettext(
        "Withdrawn “{title}” ({count} record); purged here.",
        "Withdrawn “{title}” ({count} records); purged here.",
        count,
    )
    await flash(request, withdrawn.format(title=title, count=count))
    return see_other(f"/revocations/{full_id}")


@routes.get("/revocations/{id}", name="page_revocation")
@html_page
async def revocation_page(request: web.Request) -> web.Response:
    """Per holder, purged (signed receipt) or still pending; reloads itself until done."""
    node = await readable(request)
    record_id = resolve_revoked_id(node.db, request.match_info["id"])
    revocation_id, holders = receipt_status(node.db, record_id)
    envelope, stored_note = revocation_with_note(node.db, revocation_id)
    revocation = open_revocation(envelope, partial(node_for_key, node.db))
    names = peer_names(node)
    pending = sum(1 for holder in holders if holder.status == "pending")
    auto = request.query.get("auto") != "off"
    context = {
        "record_id": record_id,
        "revocation": revocation,
        "revocation_id": revocation_id,
        "note": stored_note,
        "holders": [(peer_label(holder.node, names), holder) for holder in holders],
        "pending": pending,
        "own": revocation.origin == node.node_id,
        "refresh": REFRESH_SECONDS if pending and auto else None,
        "auto": auto,
    }
    return await render(request, "revocation.html", context)
