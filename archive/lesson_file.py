"""Lesson files: Markdown with YAML front matter, as authors write them.

``parse_lesson_file`` turns the bytes of a file into a :class:`LessonDraft`, checking every
field's type and naming the file and field of the first problem; ``LessonDraft.to_lesson``
fills in what the node knows (origin, author, time, default language and region). The
format is documented in docs/reference/lesson-format.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import yaml

from archive.attachment_intake import AttachmentSpec, attachment_specs
from archive.details import Details
from archive.details_front_matter import DETAIL_FIELDS, details_from_front
from archive.errors import InvalidLesson
from archive.record import (
    LABEL_ORDER,
    SUBJECT_ORDER,
    Consent,
    Label,
    Lesson,
    Subject,
    validate_lesson,
)

MAX_FILE_BYTES = 512 * 1024
OPTIONAL_FIELDS = {
    "summary", "language", "region", "tags", "sensitivity", "consent", "labels",
    "supersedes", "translation_of", *DETAIL_FIELDS,
}  # fmt: skip
REQUIRED_FIELDS = {"title", "kind"}
CONSENT_FIELDS = {
    "basis",
    "scope",
    "peers",
    "regions",
    "reshare",
    "expires",
    "purposes",
    "subjects",
}
SUBJECT_FIELDS = set(SUBJECT_ORDER)  # a file names the same fields the record holds
LABEL_FIELDS = set(LABEL_ORDER)

IdResolver = Callable[[str], bytes]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when present (the pure-Python parser alone would cap bulk import well below
    target), with dates left as text: ``parse_timestamp`` then reads them and can name the
    field of an impossible date such as 2026-02-30."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in _TEXT_FIELDS:
                _read_plain_as_text(value)
        return dict(super().construct_mapping(node, deep=deep))


# Fields that hold text: a plain value there is read as written, so an id made only of
# digits (``supersedes: 305218410667``), a title such as ``1984`` or a language ``no`` is not
# turned into a number or a boolean that the field would then refuse.
_TEXT_FIELDS = frozenset(
    {
        "title", "summary", "language", "region", "tags", "sensitivity", "supersedes",
        "translation_of", "scope", "peers", "allow", "deny", "purposes", "basis", "pseudonym",
        "type", "name", "community", "caption", "subjects",
    }
)  # fmt: skip


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


def _read_plain_as_text(node: yaml.Node) -> None:
    # A plain scalar (libyaml says style "", the Python parser None); empty and null stay None.
    plain = isinstance(node, yaml.ScalarNode) and node.style in (None, "")
    if plain and node.value not in _NULLS:
        node.tag = "tag:yaml.org,2002:str"
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _read_plain_as_text(item)


_LOADER = _Loader


@dataclass(frozen=True)
class LessonDraft:
    """What an author wrote, checked for types but not yet bound to a node."""

    title: str
    kind: str
    body: str
    summary: str = ""
    language: str | None = None
    region: str | None = None
    tags: tuple[str, ...] = ()
    sensitivity: str = "low"
    consent: Consent = field(default_factory=Consent)
    labels: tuple[Label, ...] = ()
    supersedes: str | None = None
    translation_of: str | None = None
    attachments: tuple[AttachmentSpec, ...] = ()  # read by the node, beside the file
    details: Details | None = None

    def to_lesson(
        self,
        *,
        where: str,
        origin: bytes,
        author: str,
        created: int,
        default_language: str,
        default_region: str,
        resolve_id: IdResolver,
    ) -> Lesson:
        """The lesson this draft describes, validated; raises :class:`InvalidLesson`."""
        lesson = Lesson(
            kind=self.kind,
            title=self.title.strip(),
            summary=self.summary.strip(),
            body=self.body,
            language=self.language or default_language,
            region=self.region or default_region,
            tags=self.tags,
            sensitivity=self.sensitivity,
            consent=self.consent,
            labels=self.labels,
            supersedes=_resolve(self.supersedes, "supersedes", where, resolve_id),
            translation_of=_resolve(self.translation_of, "translation_of", where, resolve_id),
            created=created,
            origin=origin,
            author=author,
            details=self.details,
        )
        validate_lesson(lesson, where)
        return lesson


def _resolve(value: str | None, name: str, where: str, resolve_id: IdResolver) -> bytes | None:
    if value is None:
        return None
    try:
        return resolve_id(value)
    except InvalidLesson:
        raise
    except Exception as error:  # an UnknownRecord or AmbiguousRecordId, reworded for the file
        raise InvalidLesson(where, name, str(error)) from error


def parse_lesson_file(data: bytes, where: str) -> LessonDraft:
    """Parse a lesson file's bytes; raise :class:`InvalidLesson` on the first problem."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidLesson(where, None, f"file is larger than the limit of {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidLesson(
            where, None, f"not UTF-8 text (bad byte at offset {error.start})"
        ) from error
    front, body = split_front_matter(text, where)
    # Files beside the lesson: a lesson file's own field (the form and the API upload files).
    specs = attachment_specs(front, where)
    front.pop("attachments", None)
    return replace(draft_from_fields(front, body, where), attachments=specs)


def split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    """The YAML mapping between the opening and closing ``---`` lines, and the body after."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InvalidLesson(where, None, "no front matter: the file must start with a '---' line")
    index = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---"), 0)
    if not index:
        raise InvalidLesson(where, None, "front matter is not closed by a '---' line")
    try:
        front = yaml.load("".join(lines[1:index]), Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line_no = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise InvalidLesson(where, None, f"broken YAML front matter{line_no}: {problem}") from error
    if not isinstance(front, dict):
        raise InvalidLesson(where, None, "front matter must be a mapping of field: value")
    return front, "".join(lines[index + 1 :]).strip("\n") + "\n"


def draft_from_fields(front: dict[str, Any], body: str, where: str) -> LessonDraft:
    """Check the front-matter fields (as from a file or a web form) and build a draft."""
    _no_unknown(front, REQUIRED_FIELDS | OPTIONAL_FIELDS, where, "")
    for name in sorted(REQUIRED_FIELDS):
        if name not in front:
            raise InvalidLesson(where, name, "is required")
    kind = _string(front, "kind", where)
    return LessonDraft(
        title=_string(front, "title", where),
        kind=kind,
        body=body,
        summary=_string(front, "summary", where, ""),
        language=_string(front, "language", where, None),
        region=_string(front, "region", where, None),
        tags=tuple(tag.lower() for tag in _strings(front, "tags", where)),
        sensitivity=_string(front, "sensitivity", where, "low"),
        consent=_consent(front.get("consent"), where),
        labels=tuple(_label(item, where) for item in _list(front, "labels", where)),
        supersedes=_string(front, "supersedes", where, None),
        translation_of=_string(front, "translation_of", where, None),
        details=details_from_front(front, kind, where, parse_timestamp),
    )


def _no_unknown(mapping: dict[str, Any], known: set[str], where: str, prefix: str) -> None:
    unknown = sorted(str(key) for key in mapping if key not in known)
    if unknown:
        raise InvalidLesson(
            where, prefix + unknown[0], f"unknown field (known: {', '.join(sorted(known))})"
        )


def _string(
    mapping: dict[str, Any], name: str, where: str, default: Any = ..., prefix: str = ""
) -> Any:
    value = mapping.get(name)
    if value is None:  # absent, or present but empty (`summary:`): the default applies
        if default is ...:
            raise InvalidLesson(where, prefix + name, "is required")
        return default
    if not isinstance(value, str):
        raise InvalidLesson(where, prefix + name, f"must be text, not {_type_name(value)}")
    return value


def _list(mapping: dict[str, Any], name: str, where: str, prefix: str = "") -> list[Any]:
    value = mapping.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidLesson(where, prefix + name, f"must be a list, not {_type_name(value)}")
    return value


def _strings(mapping: dict[str, Any], name: str, where: str, prefix: str = "") -> tuple[str, ...]:
    values = _list(mapping, name, where, prefix)
    if not all(isinstance(value, str) for value in values):
        raise InvalidLesson(where, prefix + name, "must be a list of text")
    return tuple(value.strip() for value in values)


def _boolean(mapping: dict[str, Any], name: str, where: str, prefix: str, default: bool) -> bool:
    value = mapping.get(name, default)
    if not isinstance(value, bool):
        raise InvalidLesson(where, prefix + name, f"must be true or false, not {_type_name(value)}")
    return value


def _timestamp(mapping: dict[str, Any], name: str, where: str, prefix: str) -> int | None:
    value = mapping.get(name)
    if value is None:
        return None
    return parse_timestamp(value, where, prefix + name)


def parse_timestamp(value: Any, where: str, name: str) -> int:
    """Unix seconds from an ISO 8601 date or date-time (no zone means UTC)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = _datetime_from_text(value, where, name)
    else:
        raise InvalidLesson(where, name, f"must be an ISO 8601 date, not {_type_name(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def _datetime_from_text(text: str, where: str, name: str) -> dt.datetime:
    """ISO 8601, or YAML's timestamp spellings (``2027-03-01 12:30:00 -5``)."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as error:
        raise InvalidLesson(
            where, name, f"{text!r} is not a possible ISO 8601 date: {error}"
        ) from error
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raise InvalidLesson(where, name, f"{text!r} is not an ISO 8601 date")


def _consent(value: Any, where: str) -> Consent:
    if value is None:
        return Consent()  # no consent recorded: stays local, never leaves
    if not isinstance(value, dict):
        raise InvalidLesson(where, "consent", f"must be a mapping, not {_type_name(value)}")
    _no_unknown(value, CONSENT_FIELDS, where, "consent.")
    regions = {} if value.get("regions") is None else value["regions"]
    if not isinstance(regions, dict) or set(regions) - {"allow", "deny"}:
        raise InvalidLesson(
            where, "consent.regions", "must be a mapping with 'allow' and/or 'deny' lists"
        )
    return Consent(
        basis=_basis(value, where),
        scope=_string(value, "scope", where, "local", "consent."),
        peers=_strings(value, "peers", where, "consent."),
        regions_allow=_strings(regions, "allow", where, "consent.regions."),
        regions_deny=_strings(regions, "deny", where, "consent.regions."),
        reshare=_boolean(value, "reshare", where, "consent.", False),
        expires=_timestamp(value, "expires", where, "consent."),
        purposes=_strings(value, "purposes", where, "consent."),
        subjects=tuple(
            _subject(item, where) for item in _list(value, "subjects", where, "consent.")
        ),
    )


def _basis(consent: dict[str, Any], where: str) -> str:
    """A consent block states consent unless it says otherwise; an empty ``basis:`` line is
    a blank left unfilled in a template, and we never read a blank as consent."""
    if "basis" in consent and consent["basis"] is None:
        raise InvalidLesson(
            where,
            "consent.basis",
            "was left empty: choose what the people in it agreed to: consent (they said yes), "
            "notice (they were told, not asked) or none",
        )
    return str(_string(consent, "basis", where, "consent", "consent."))


def _subject(value: Any, where: str) -> Subject:
    prefix = "consent.subjects."
    if not isinstance(value, dict):
        raise InvalidLesson(where, "consent.subjects", "each subject must be a mapping")
    _no_unknown(value, SUBJECT_FIELDS, where, prefix)
    return Subject(
        pseudonym=_string(value, "pseudonym", where, ..., prefix),
        share=_boolean(value, "share", where, prefix, False),
        recorded=_boolean(value, "recorded", where, prefix, False),
        photographed=_boolean(value, "photographed", where, prefix, False),
        expires=_timestamp(value, "expires", where, prefix),
        withdrawn=_boolean(value, "withdrawn", where, prefix, False),
    )


def _label(value: Any, where: str) -> Label:
    if not isinstance(value, dict):
        raise InvalidLesson(where, "labels", "each label must be a mapping")
    _no_unknown(value, LABEL_FIELDS, where, "labels.")
    return Label(
        type=_string(value, "type", where, ..., "labels."),
        name=_string(value, "name", where, ..., "labels."),
        community=_string(value, "community", where, "", "labels."),
    )


def _type_name(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)
