"""The OpenAPI document describes exactly the routes the app serves, and is well formed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from archive.lesson_file import OPTIONAL_FIELDS, REQUIRED_FIELDS
from node.node import Node
from node.web.api_types import (
    MAX_INVITE_TTL,
    MAX_NAME_CHARS,
    MAX_PAGE,
    MIN_INVITE_TTL,
)
from node.web.app import create_app
from node.web.openapi import document
from tests.web.conftest import Client, json_of

METHODS = {"get", "post", "put", "patch", "delete"}
# The write operations that need a member (sign-in and sign-out are for anyone).
OPEN_WRITES = {"api_sign_in", "api_sign_out"}


def documented_path(path: str) -> bool:
    return path.startswith("/api/v1/") or path in ("/healthz", "/metrics")


def served_routes(app: web.Application) -> dict[tuple[str, str], str | None]:
    """(METHOD, path) → route name of everything the router answers that the document covers.

    HEAD is left out: aiohttp adds it to every GET by itself.
    """
    found = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and documented_path(path):
            found[(route.method, path)] = route.name
    return found


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert method in METHODS, f"{path}: {method} is not an HTTP method"
            yield method.upper(), path, operation


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def test_every_route_is_documented_and_every_documented_route_is_served(node: Node) -> None:
    served = served_routes(create_app(node, background_sync=False))
    documented = {(method, path) for method, path, _ in operations(document())}
    assert len(served) >= 25
    assert sorted(set(served) - documented) == [], "routes missing from the OpenAPI document"
    assert sorted(documented - set(served)) == [], "documented routes the app does not serve"


def test_each_operation_id_is_the_route_name(node: Node) -> None:
    served = served_routes(create_app(node, background_sync=False))
    for method, path, operation in operations(document()):
        assert operation["operationId"] == served[(method, path)], (method, path)


def test_every_reference_resolves_and_every_path_parameter_is_declared() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    for target in set(refs(doc)):
        assert target.startswith("#/"), target
        node: Any = doc
        for part in target[2:].split("/"):
            assert part in node, f"{target} does not resolve"
            node = node[part]
    for method, path, operation in operations(doc):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
        assert operation["summary"] and operation["responses"], (method, path)


def test_every_write_needs_a_member_and_documents_its_refusals() -> None:
    for method, path, operation in operations(document()):
        if method == "GET" or operation["operationId"] in OPEN_WRITES:
            continue
        assert operation["security"] == [{"basic": []}, {"session": [], "csrf": []}], path
        for status in ("400", "401", "403", "413", "415"):
            assert status in operation["responses"], (method, path, status)


def test_the_error_shape_is_the_one_the_server_sends() -> None:
    schemas = document()["components"]["schemas"]
    error = schemas["Error"]
    assert error["required"] == ["error"] and error["additionalProperties"] is False
    inner = schemas[error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert inner["required"] == ["status", "code", "message"]
    assert inner["additionalProperties"] is False


def test_the_lesson_body_names_the_fields_the_lesson_file_parser_takes() -> None:
    """The API's lesson body is checked by the lesson-file parser; its type names the same."""
    declared = set(document()["components"]["schemas"]["LessonInput"]["properties"])
    assert declared == REQUIRED_FIELDS | OPTIONAL_FIELDS | {"body"}
    required = set(document()["components"]["schemas"]["LessonInput"]["required"])
    assert required == REQUIRED_FIELDS | {"body"}


def test_request_limits_in_the_document_are_the_ones_enforced() -> None:
    """The document's numbers come from the very types the routes decode with."""
    schemas = document()["components"]["schemas"]
    assert schemas["SignIn"]["properties"]["name"]["maxLength"] == MAX_NAME_CHARS
    ttl = schemas["InviteInput"]["properties"]["ttl"]
    assert (ttl["minimum"], ttl["maximum"]) == (MIN_INVITE_TTL, MAX_INVITE_TTL)
    lessons = document()["paths"]["/api/v1/lessons"]["get"]["parameters"]
    [limit] = [p for p in lessons if p["name"] == "limit"]
    assert limit["schema"]["maximum"] == MAX_PAGE and limit["in"] == "query"


async def test_the_document_is_served(client: Client) -> None:
    served = await json_of(await client.get("/api/v1/openapi.json"))
    assert served == document()
    assert "/api/v1/lessons/{id}/revoke" in served["paths"]
