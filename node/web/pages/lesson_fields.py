"""The lesson form's values, to and from what a lesson file holds.

The form shows *values* (text as typed, ticked boxes, rows of participants and labels);
:func:`front_matter` turns them into the front matter a lesson file with the same content
would have, so ``draft_from_fields`` checks them exactly as it checks a file. Nothing here
decides what is valid.
"""

from __future__ import annotations

from typing import Any

from archive.record import (
    LABEL_TYPES,
    MAX_BODY_BYTES,
    MAX_LABEL_TEXT,
    MAX_LABELS,
    MAX_SUBJECTS,
    MAX_TAG,
    SUBJECT_ORDER,
    Lesson,
)
from node.node import Node
from node.web.pages.common import Form, field, peer_names
from node.web.pages.words import day

BLANK_SUBJECT_ROWS = 2
BLANK_LABEL_ROWS = 1
SUBJECT_FLAGS = tuple(name for name in SUBJECT_ORDER if name not in ("pseudonym", "expires"))


def read_cap(limit: int) -> int:
    """How much of a field the form reads: well past the lesson's own limit (archive/record.py,
    the one declaration, which ``validate_lesson`` enforces with the field named), so a value
    over it comes back in the form with that message; only absurd input is refused as 400."""
    return max(4 * limit, 1_000)


DATE_CHARS = 100  # an ISO 8601 date or date-time, with room for what people type
TEXT_FIELDS = (
    "title", "kind", "summary", "body", "language", "region", "tags", "sensitivity",
    "consent_basis", "consent_scope", "consent_regions_allow", "consent_regions_deny",
    "consent_expires", "consent_purposes", "supersedes", "translation_of",
)  # fmt: skip


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
    values: dict[str, Any] = {
        name: field(form, name, read_cap(MAX_BODY_BYTES)) for name in TEXT_FIELDS
    }
    # The title box wraps long titles (a textarea): a line break typed there is a space.
    values["title"] = " ".join(values["title"].split())
    values["consent_peers"] = [
        value for value in form.getall("consent_peers", []) if isinstance(value, str)
    ]
    values["consent_reshare"] = "consent_reshare" in form
    subjects = [
        {
            "pseudonym": field(form, f"subject_{i}_pseudonym", read_cap(MAX_TAG)),
            **{flag: f"subject_{i}_{flag}" in form for flag in SUBJECT_FLAGS},
            "expires": field(form, f"subject_{i}_expires", read_cap(DATE_CHARS)),
        }
        for i in range(MAX_SUBJECTS + 1)
    ]
    labels = [
        {
            "type": field(form, f"label_{i}_type", read_cap(max(map(len, LABEL_TYPES)))),
            "name": field(form, f"label_{i}_name", read_cap(MAX_TAG)),
            "community": field(form, f"label_{i}_community", read_cap(MAX_LABEL_TEXT)),
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
