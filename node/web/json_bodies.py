"""Reading a JSON API request body, cheapest check first: media type, size, syntax, fields.

Every write says ``application/json`` (415 otherwise), its body is capped before and while it
is read (413, never past :data:`MAX_JSON_BYTES`), then parsed (400 for bad syntax, for a
constant like ``NaN`` and for a key given twice) and each field checked by type and length
(400 naming the field). Nothing is acted on before all of this passed.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from aiohttp import web

from crypto.errors import RhizomeError
from federation.bodies import BodyOverLimit, read_capped

MAX_JSON_BYTES = 1024 * 1024
JSON_TYPE = "application/json"


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
        value = json.loads(
            raw.decode("utf-8"), parse_constant=_no_constant, object_pairs_hook=_unique_keys
        )
    except DuplicateKey as error:
        raise BadInput(f"field '{error.key}': given twice; send each field once") from error
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


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, refusing a key given twice: parsers disagree on which copy wins (ours took
    the last), so a body that a proxy or log reads one way must not act another way here."""
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            raise DuplicateKey(key)
        value[key] = item
    return value


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
