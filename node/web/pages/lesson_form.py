"""The form to add a lesson, edit one (a new version) or translate one.

The form is turned into the same front matter a lesson file has, and goes through the same
functions as ``rhizome lesson add``: ``draft_from_fields`` and the add-lesson action
(:func:`node.actions.lessons.add_lesson`, in a worker thread; a form sent twice stores the
lesson once). So every rule and every message is the CLI's; a problem is
shown next to the field it names, with everything typed kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from archive.attachment import Attachment
from archive.details import FollowUps
from archive.errors import InvalidLesson
from archive.lesson_file import draft_from_fields
from archive.lesson_sources import Outcome
from archive.queries import load_record
from archive.record import CONSENT_BASES, KINDS, LABEL_TYPES, SCOPES, SENSITIVITIES
from federation.peers import list_peers
from governance.members import Member
from governance.roles import require
from node.actions import in_worker_thread
from node.actions import lessons as actions
from node.actions.lessons import AddLesson
from node.i18n import N_
from node.i18n import gettext as _
from node.node import Node
from node.web.auth import acting_member, current_member
from node.web.pages.attachment_upload import uploaded_attachments
from node.web.pages.common import (
    flash,
    form_of,
    html_page,
    node_of,
    render,
    see_other,
    sign_in_location,
)
from node.web.pages.lesson_fields import (
    SUBJECT_FLAGS,
    body_text,
    empty_values,
    front_matter,
    values_from_form,
    values_of,
)
from node.web.pages.words import LABEL_WORDS
from node.web.uploads import upload_slot

routes = web.RouteTableDef()
WHERE = "the form"
# The inputs an error can show next to (fields of the file format map to these), by label.
INPUTS = {
    "title": N_("Title"),
    "kind": N_("Kind"),
    "summary": N_("Summary"),
    "body": N_("Text"),
    "language": N_("Language"),
    "region": N_("Region"),
    "tags": N_("Tags"),
    "sensitivity": N_("Sensitivity"),
    "consent_basis": N_("Did the people concerned agree?"),
    "consent_scope": N_("Who may receive it?"),
    "consent_peers": N_("Peers named in the consent"),
    "consent_regions_allow": N_("Only in these regions"),
    "consent_regions_deny": N_("Never in these regions"),
    "consent_reshare": N_("Passing it on"),
    "consent_expires": N_("Consent ends on"),
    "consent_purposes": N_("May be used for"),
    "subjects": N_("Participants"),
    "labels": N_("Labels"),
}


@routes.get("/lessons/new", name="page_new_lesson")
@html_page
async def new_lesson(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await _author(request, node)
    if member is None:
        return see_other(sign_in_location(request))
    values = empty_values()
    original = request.query.get("translation_of")
    if original:
        full_id = node.resolve_id(original)
        values = values_of(load_record(node.db, full_id).lesson, node)
        values.update(translation_of=full_id, language="")
    return await _form(request, node, values, "/lessons/new")


@routes.get("/lessons/{id}/edit", name="page_edit_lesson")
@html_page
async def edit_lesson(request: web.Request) -> web.Response:
    node = node_of(request)
    member = await _author(request, node)
    if member is None:
        return see_other(sign_in_location(request))
    full_id = node.resolve_id(request.match_info["id"])
    values = values_of(load_record(node.db, full_id).lesson, node)
    return await _form(request, node, {**values, "supersedes": full_id}, request.path)


@routes.post("/lessons/new", name="page_add_lesson")
@html_page
async def add_lesson(request: web.Request) -> web.Response:
    async with upload_slot(request):  # its files are held in memory until stored
        return await _save(request)


@routes.post("/lessons/{id}/edit", name="page_save_version")
@html_page
async def save_version(request: web.Request) -> web.Response:
    async with upload_slot(request):
        return await _save(request, supersedes=request.match_info["id"])


async def _author(request: web.Request, node: Node) -> Member | None:
    member = await current_member(request, node)
    if member is not None:
        require(member.name, member.roles, "lesson.add")
    return member


async def _save(request: web.Request, supersedes: str | None = None) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "lesson.add")
    form = await form_of(request)
    values = values_from_form(form)
    uploads = tuple(uploaded_attachments(form))
    # An edit keeps the attachments of the version it replaces (withdrawn ones are gone).
    kept = () if supersedes is None else _attachments_of(node, supersedes)
    if supersedes is not None:  # an edit: the new version replaces the one in the address
        values["supersedes"] = node.resolve_id(supersedes)
    action = request.path
    try:
        draft = draft_from_fields(front_matter(values), body_text(values["body"]), WHERE)
        if supersedes is not None and draft.details is None:
            # The form does not show follow-ups: an edit keeps the ones of the version it replaces.
            draft = replace(draft, details=_follow_ups_of(node, supersedes, draft.kind))
        # Sent twice: stored once. Signing and indexing run off the event loop.
        asked = AddLesson(member, draft, WHERE, attachments=uploads, kept=kept)
        intake = await in_worker_thread(node, actions.add_lesson, asked)
    except InvalidLesson as error:
        return await _form(request, node, values, action, error, status=error.http_status)
    assert intake.record_id is not None
    if intake.outcome is Outcome.ALREADY_HERE:
        here = _("“{title}” is already here: nothing new was stored.")
        await flash(request, here.format(title=intake.title))
        return see_other(f"/lessons/{intake.record_id}")
    record = load_record(node.db, intake.record_id)
    note = node.widening_note(record)
    saved = _("Saved “{title}”, signed by this hub.").format(title=record.lesson.title)
    await flash(request, f"{saved} {note or ''}".strip())
    return see_other(f"/lessons/{record.id_hex}")


def _follow_ups_of(node: Node, record: str, kind: str) -> FollowUps | None:
    details = load_record(node.db, node.resolve_id(record)).lesson.details
    return details if kind == "action_brief" and isinstance(details, FollowUps) else None


def _attachments_of(node: Node, record: str) -> tuple[Attachment, ...]:
    return load_record(node.db, node.resolve_id(record)).lesson.attachments


async def _form(
    request: web.Request,
    node: Node,
    values: dict[str, Any],
    action: str,
    error: InvalidLesson | None = None,
    status: int = 200,
) -> web.Response:
    names = sorted(peer.name for peer in list_peers(node.db))
    checked = set(values["consent_peers"])
    context = {
        "values": values,
        "action": action,
        "error": error,
        "error_input": _input_for(error.field) if error else None,
        "input_labels": INPUTS,
        "kinds": KINDS,
        "sensitivities": SENSITIVITIES,
        "bases": CONSENT_BASES,
        "scopes": SCOPES,
        "label_types": [(code, LABEL_WORDS.get(code, code)) for code in LABEL_TYPES],
        "peer_choices": names + sorted(checked - set(names)),
        "subject_flags": SUBJECT_FLAGS,
        "defaults": node.config,
    }
    return await render(request, "lesson_form.html", context, status=status)


def _input_for(field_name: str | None) -> str | None:
    """The form input that shows an error about ``field_name`` (a file-format field name)."""
    if field_name is None:
        return None
    key = field_name.replace(".", "_")
    if key.startswith("consent_subjects"):
        return "subjects"
    if key.startswith("labels"):
        return "labels"
    if key in ("consent", "consent_basis"):
        return "consent_basis"
    if key == "consent_regions":
        return "consent_regions_allow"
    return key if key in INPUTS else None
