"""The lesson form's file uploads: ``attachment_{i}`` with ``attachment_{i}_caption`` and
``attachment_{i}_subjects`` (pseudonyms separated by commas) become :class:`AttachmentInput`.

The form is ``multipart/form-data``, read as it arrives into memory, within the node's
per-file and per-lesson caps (:mod:`node.web.uploads`: never onto the disk, refused past a
cap before the rest is read). The type sniffing, the cleaning and the caps on the cleaned
files are the same as for the CLI (``Node.take_lesson``).
"""

from __future__ import annotations

from typing import Any

from multidict import MultiDictProxy

from archive.attachment_intake import AttachmentInput
from node.web.uploads import UploadedFile

UPLOAD_ROWS = 3
Form = MultiDictProxy[Any]


def uploaded_attachments(form: Form) -> list[AttachmentInput]:
    """The files of a posted lesson form (empty file inputs are skipped)."""
    inputs = []
    for index in range(UPLOAD_ROWS):
        upload = form.get(f"attachment_{index}")
        if not isinstance(upload, UploadedFile):
            continue
        data = upload.data
        if not data:
            continue
        inputs.append(
            AttachmentInput(
                upload.filename, data, _text(form, f"attachment_{index}_caption"),
                tuple(name.strip() for name in _text(form, f"attachment_{index}_subjects")
                      .split(",") if name.strip()),
            )
        )  # fmt: skip
    return inputs


def _text(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""
