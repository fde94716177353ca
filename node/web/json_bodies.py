"""Reading a JSON API request body, cheapest check first: media type, size, syntax, fields.

Every write says ``application/json`` (415 otherwise), its body is capped before and while it
is read (413, never past :data:`MAX_JSON_BYTES`), then parsed (400 for bad syntax, for a
constant like ``NaN`` and for a key given twice) and each field checked by type and length
(400 naming the field) against the route's request type in :mod:`node.web.api_types`.
Nothing is acted on before all of this passed.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn, TypeVar

import msgspec
from aiohttp import web

from crypto.errors import RhizomeError
from federation.bodies import BodyOverLimit, read_capped

MAX_JSON_BYTES = 1024 * 1024
JSON_TYPE = "application/json"
M = TypeVar("M", bound=msgspec.Struct)


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


def decode_body(fields: dict[str, Any], message: type[M]) -> M:
    """``fields`` as the request type ``message`` (:mod:`node.web.api_types`), checked against
    its declared types and limits; a refusal names the field and what it must be."""
    try:
        return msgspec.convert(fields, message, strict=True)
    except msgspec.ValidationError as error:
        name, words = refusal(str(error), fields, message)
        raise BadInput(f"field '{name}': {words}" if name else words) from error


async def body_of(request: web.Request, message: type[M], *, required: bool = True) -> M:
    """The request's JSON body (:func:`json_object`), decoded as ``message``."""
    return decode_body(await json_object(request, required=required), message)


def refusal(problem: str, given: dict[str, Any], message: type[msgspec.Struct]) -> tuple[str, str]:
    """msgspec's complaint said the node's way: the field's name, and what it must be."""
    info = msgspec.inspect.type_info(message)
    assert isinstance(info, msgspec.inspect.StructType)
    declared = {field.encode_name: field for field in info.fields}
    if found := re.match(r"Object missing required field `(\w+)`", problem):
        return found[1], "is required"
    if re.match(r"Object contains unknown field", problem):
        unknown = sorted(name for name in given if name not in declared)
        accepted = ", ".join(declared) if declared else "none"
        return unknown[0], f"unknown field (this route takes: {accepted})"
    found = re.search(r"- at `\$\.(\w+)", problem)
    if found is None or found[1] not in declared:
        return "", f"the body does not fit this route: {problem}"
    field = declared[found[1]]
    if given.get(field.encode_name) in (None, "") and field.required:
        return field.encode_name, "is required"
    return field.encode_name, expectation(field.type, given.get(field.encode_name))


def expectation(kind: msgspec.inspect.Type, value: Any) -> str:
    """What a field of this declared type must be, in words (given ``value`` was refused)."""
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.UnionType):
        kinds = [k for k in kind.types if not isinstance(k, msgspec.inspect.NoneType)]
        kind = kinds[0] if len(kinds) == 1 else kind
        while isinstance(kind, msgspec.inspect.Metadata):
            kind = kind.type
    if isinstance(kind, msgspec.inspect.LiteralType):
        return f"must be one of {', '.join(str(v) for v in kind.values)}"
    if isinstance(kind, msgspec.inspect.IntType):
        if kind.ge is None or kind.le is None:
            return "must be a whole number"
        return f"must be a whole number from {kind.ge:,} to {kind.le:,}"
    if isinstance(kind, msgspec.inspect.StrType):
        if isinstance(value, str) and kind.max_length is not None:
            return f"longer than the limit of {kind.max_length:,} characters"
        return "must be text"
    return "has the wrong type"
