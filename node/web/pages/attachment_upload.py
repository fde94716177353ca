"""The lesson form's file uploads: ``attachment_{i}`` with ``attachment_{i}_caption`` and
``attachment_{i}_subjects`` (pseudonyms separated by commas) become :class:`AttachmentInput`.

The form is ``multipart/form-data`` and read whole, within the web server's request limit
(``MAX_REQUEST_BYTES``, 2 MiB for the whole form, checked as it arrives): larger files are
attached with ``rhizome lesson add --attach``. The per-file and per-lesson caps, the type
sniffing and the cleaning are the same as for the CLI (``Node.take_lesson``).
"""

from __future__ import annotations

from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from archive.attachment_intake import AttachmentInput

UPLOAD_ROWS = 3
Form = MultiDictProxy[str | bytes | FileField]


def uploaded_attachments(form: Form) -> list[AttachmentInput]:
    """The files of a posted lesson form (empty file inputs are skipped)."""
    inputs = []
    for index in range(UPLOAD_ROWS):
        upload = form.get(f"attachment_{index}")
        if not isinstance(upload, FileField):
            continue
        data = upload.file.read()
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
