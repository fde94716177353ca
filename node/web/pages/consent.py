"""A participant withdraws consent to a lesson's photos and recordings, from its page.

The form on the lesson page (as ``rhizome consent withdraw``, the same action): the
lesson's author here, a steward or an admin chooses the participant and types their
pseudonym again to confirm, since it cannot be undone. A new signed version keeps the text
without their attachments; the files are purged here at once (in a worker thread) and the
running node tells every holder, each answering with a signed purge receipt.
"""

from __future__ import annotations

from aiohttp import web

from archive.queries import load_record
from archive.record import MAX_TAG
from node.actions import in_worker_thread
from node.actions.consent import WithdrawSubject, withdraw_subject
from node.actions.lessons import revoker
from node.i18n import gettext as _
from node.i18n import ngettext
from node.web.auth import writing_member
from node.web.keys import wake_outbox
from node.web.pages.common import field, flash, form_of, html_page, node_of, render, see_other
from node.web.pages.lessons import lesson_context

routes = web.RouteTableDef()


@routes.post("/lessons/{id}/consent/withdraw", name="page_consent_withdraw")
@html_page
async def withdraw_consent(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await writing_member(request, node)
    full_id = revoker(node, member, request.match_info["id"]).id  # who may, before the form
    form = await form_of(request)
    subject, typed = field(form, "subject", MAX_TAG), field(form, "confirmation", MAX_TAG)
    consent = load_record(node.db, full_id).lesson.consent
    subjects = {entry.pseudonym for entry in consent.subjects}
    problem = None
    if subject not in subjects:
        problem = _("Choose the participant who withdraws their consent.")
    elif typed.strip() != subject:
        problem = _("Type the participant's pseudonym exactly, to confirm.")
    if problem is not None:
        context = lesson_context(
            node, full_id, member, consent_error=problem, consent_subject=subject
        )
        return await render(request, "lesson.html", context, status=400)
    asked = WithdrawSubject(member, full_id, subject)
    done = await in_worker_thread(node, withdraw_subject, asked)  # signs, purges: off the loop
    if done.revocation_id is not None:
        wake_outbox(request.app)  # tell every holder now, not at the next poll
    said = ngettext(
        "New version without {subject}'s {count} attachment; purged here, every holder is told.",
        "New version without {subject}'s {count} attachments; purged here, every holder is told.",
        len(done.files),
    )
    await flash(request, said.format(subject=subject, count=len(done.files)))
    return see_other(f"/lessons/{done.new_version}")
