"""The form to add a lesson, edit one (a new version) or translate one.

The form is turned into the same front matter a lesson file has, and goes through the same
functions as ``rhizome lesson add``: ``draft_from_fields``, ``Node.lesson_from_draft`` and
``RecordWriter.add_lesson``. So every rule and every message is the CLI's; a problem is
shown next to the field it names, with everything typed kept.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from archive.errors import InvalidLesson
from archive.lesson_file import draft_from_fields
from archive.queries import load_record
from archive.record import (
    CONSENT_BASES,
    KINDS,
    LABEL_TYPES,
    MAX_LABELS,
    MAX_SUBJECTS,
    SCOPES,
    SENSITIVITIES,
    Lesson,
)
from federation.peers import list_peers
from governance.members import Member
from governance.roles import require
from node.node import Node
from node.web.auth import acting_member, current_member
from node.web.pages.common import (
    Form,
    field,
    flash,
    form_of,
    html_page,
    node_of,
    peer_names,
    render,
    see_other,
    sign_in_location,
)
from node.web.pages.words import LABEL_WORDS, day

routes = web.RouteTableDef()
WHERE = "the form"
BLANK_SUBJECT_ROWS = 2
BLANK_LABEL_ROWS = 1
SUBJECT_FLAGS = ("share", "recorded", "photographed", "withdrawn")
TEXT_FIELDS = (
    "title", "kind", "summary", "body", "language", "region", "tags", "sensitivity",
    "consent_basis", "consent_scope", "consent_regions_allow", "consent_regions_deny",
    "consent_expires", "consent_purposes", "supersedes", "translation_of",
)  # fmt: skip
# The inputs an error can show next to (fields of the file format map to these), by label.
INPUTS = {
    "title": "Title",
    "kind": "Kind",
    "summary": "Summary",
    "body": "Text",
    "language": "Language",
    "region": "Region",
    "tags": "Tags",
    "sensitivity": "Sensitivity",
    "consent_basis": "Did the people concerned agree?",
    "consent_scope": "Who may receive it?",
    "consent_peers": "Peers named in the consent",
    "consent_regions_allow": "Only in these regions",
    "consent_regions_deny": "Never in these regions",
    "consent_reshare": "Passing it on",
    "consent_expires": "Consent ends on",
    "consent_purposes": "May be used for",
    "subjects": "Participants",
    "labels": "Labels",
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
    return await _save(request)


@routes.post("/lessons/{id}/edit", name="page_save_version")
@html_page
async def save_version(request: web.Request) -> web.Response:
    return await _save(request, supersedes=request.match_info["id"])


async def _author(request: web.Request, node: Node) -> Member | None:
    member = await current_member(request, node)
    if member is not None:
        require(member.name, member.roles, "lesson.add")
    return member


async def _save(request: web.Request, supersedes: str | None = None) -> web.Response:
    node = node_of(request)
    member = await acting_member(request, node, "lesson.add")
    values = values_from_form(await form_of(request))
    if supersedes is not None:  # an edit: the new version replaces the one in the address
        values["supersedes"] = node.resolve_id(supersedes)
    action = request.path
    try:
        draft = draft_from_fields(front_matter(values), body_text(values["body"]), WHERE)
        lesson = node.lesson_from_draft(draft, WHERE, member.name)
        record = node.writer.add_lesson(lesson, WHERE)
    except InvalidLesson as error:
        return await _form(request, node, values, action, error, status=400)
    await flash(request, f"Saved “{record.lesson.title}”, signed by this hub.")
    return see_other(f"/lessons/{record.id_hex}")


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


def empty_values() -> dict[str, Any]:
    return {
        "title": "", "kind": "", "summary": "", "body": "", "language": "", "region": "",
        "tags": "", "sensitivity": "low", "consent_basis": "", "consent_scope": "local",
        "consent_peers": [], "consent_regions_allow": "", "consent_regions_deny": "",
        "consent_reshare": False, "consent_expires": "", "consent_purposes": "",
        "subjects": _rows([], BLANK_SUBJECT_ROWS, _blank_subject),
        "labels": _rows([], BLANK_LABEL_ROWS, _blank_label),
        "supersedes": "", "translation_of": "",
    }  # fmt: skip


def values_of(lesson: Lesson, node: Node) -> dict[str, Any]:
    """The form filled in from a stored lesson, for a new version or a translation."""
    consent = lesson.consent
    names = peer_names(node)
    subjects = [
        {
            "pseudonym": subject.pseudonym,
            **{flag: getattr(subject, flag) for flag in SUBJECT_FLAGS},
            "expires": day(subject.expires),
        }
        for subject in consent.subjects
    ]
    labels = [
        {"type": label.type, "name": label.name, "community": label.community}
        for label in lesson.labels
    ]
    return {
        **empty_values(),
        "title": lesson.title,
        "kind": lesson.kind,
        "summary": lesson.summary,
        "body": lesson.body,
        "language": lesson.language,
        "region": lesson.region,
        "tags": ", ".join(lesson.tags),
        "sensitivity": lesson.sensitivity,
        "consent_basis": consent.basis,
        "consent_scope": consent.scope,
        "consent_peers": [names.get(node_id, node_id) for node_id in consent.peers],
        "consent_regions_allow": ", ".join(consent.regions_allow),
        "consent_regions_deny": ", ".join(consent.regions_deny),
        "consent_reshare": consent.reshare,
        "consent_expires": day(consent.expires),
        "consent_purposes": ", ".join(consent.purposes),
        "subjects": _rows(subjects, BLANK_SUBJECT_ROWS, _blank_subject),
        "labels": _rows(labels, BLANK_LABEL_ROWS, _blank_label),
    }


def values_from_form(form: Form) -> dict[str, Any]:
    """What was typed, as the form shows it again (nothing checked yet)."""
    values: dict[str, Any] = {name: field(form, name, 300_000) for name in TEXT_FIELDS}
    values["consent_peers"] = [
        value for value in form.getall("consent_peers", []) if isinstance(value, str)
    ]
    values["consent_reshare"] = "consent_reshare" in form
    subjects = [
        {
            "pseudonym": field(form, f"subject_{i}_pseudonym", 200),
            **{flag: f"subject_{i}_{flag}" in form for flag in SUBJECT_FLAGS},
            "expires": field(form, f"subject_{i}_expires", 100),
        }
        for i in range(MAX_SUBJECTS + 1)
    ]
    labels = [
        {
            "type": field(form, f"label_{i}_type", 100),
            "name": field(form, f"label_{i}_name", 200),
            "community": field(form, f"label_{i}_community", 5_000),
        }
        for i in range(MAX_LABELS + 1)
    ]
    filled_subjects = [row for row in subjects if _filled(row)]
    values["subjects"] = _rows(filled_subjects, BLANK_SUBJECT_ROWS, _blank_subject)
    values["labels"] = _rows(
        [row for row in labels if _filled(row)], BLANK_LABEL_ROWS, _blank_label
    )
    return values


def front_matter(values: dict[str, Any]) -> dict[str, Any]:
    """The front matter a lesson file with these values would have."""
    front: dict[str, Any] = {
        "title": values["title"],
        "kind": values["kind"],
        "summary": values["summary"],
        "language": values["language"].strip() or None,
        "region": values["region"].strip() or None,
        "tags": _list(values["tags"]),
        "sensitivity": values["sensitivity"],
        "consent": {
            "basis": values["consent_basis"] or None,
            "scope": values["consent_scope"] or None,
            "peers": list(values["consent_peers"]),
            "regions": {
                "allow": _list(values["consent_regions_allow"]),
                "deny": _list(values["consent_regions_deny"]),
            },
            "reshare": values["consent_reshare"],
            "expires": values["consent_expires"].strip() or None,
            "purposes": _list(values["consent_purposes"]),
            "subjects": [_subject(row) for row in values["subjects"] if _filled(row)],
        },
        "labels": [
            {"type": row["type"], "name": row["name"], "community": row["community"]}
            for row in values["labels"]
            if _filled(row)
        ],
    }
    for link in ("supersedes", "translation_of"):
        if values.get(link):
            front[link] = values[link]
    return front


def body_text(text: str) -> str:
    """The body as a lesson file would hold it: Unix line ends, one final newline."""
    return text.replace("\r\n", "\n").strip("\n") + "\n"


def _subject(row: dict[str, Any]) -> dict[str, Any]:
    subject = {"pseudonym": row["pseudonym"].strip() or None}
    subject.update({flag: bool(row[flag]) for flag in SUBJECT_FLAGS})
    if row["expires"].strip():
        subject["expires"] = row["expires"].strip()
    return subject


def _list(text: str) -> list[str]:
    """Comma-separated entries; empty ones (a trailing comma) are no entry."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _filled(row: dict[str, Any]) -> bool:
    return any(value for value in row.values())


def _blank_subject() -> dict[str, Any]:
    return {"pseudonym": "", **dict.fromkeys(SUBJECT_FLAGS, False), "expires": ""}


def _blank_label() -> dict[str, Any]:
    return {"type": "", "name": "", "community": ""}


def _rows(rows: list[dict[str, Any]], blanks: int, blank: Any) -> list[dict[str, Any]]:
    return [*rows, *(blank() for _ in range(blanks))]
