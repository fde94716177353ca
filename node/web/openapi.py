"""The OpenAPI 3.1 description of the JSON API, served at ``GET /api/v1/openapi.json``.

Generated, not written twice: the schemas come from the request and answer types of
:mod:`node.web.api_types` (the same types the routes decode bodies and queries with), and
:data:`OPERATIONS` says, route by route, which types each takes and answers and which errors
it documents. Tests check that every ``/api/v1`` route, ``/healthz`` and ``/metrics`` is
here under its route name, and validate real answers of a served node against the schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from node import __version__
from node.web import api_answers as answers
from node.web import api_exchange_types as exchange
from node.web import api_types as types
from node.web.auth import CSRF_HEADER
from node.web.json_bodies import MAX_JSON_BYTES

Schema = dict[str, Any]
Security = list[dict[str, list[str]]]
Message = type[msgspec.Struct]
routes = web.RouteTableDef()
REF = "#/components/schemas/{name}"

DESCRIPTION = f"""\
The JSON API of a Rhizome node: read and search lessons; add, approve, review and revoke
them; pair with peers and manage them; read the policy, the decision log and the event log.

Every route but `/healthz`, `/metrics`, this document and `/api/v1/session` needs a member,
from the node's own machine too: a session from `POST /api/v1/session`, HTTP Basic with the
password set by `rhizome member password NAME`, or (reads only) an API token made with
`rhizome member token create NAME`, sent as `Authorization: Bearer TOKEN`. Without them the
answer is 401 (`unauthenticated`) with a `WWW-Authenticate` challenge. When the operator set
`[server] public_read = true`, listing, searching and reading lessons also answer without
credentials, for lessons whose consent scope is `public` only. Writes send a session's CSRF
token in the `{CSRF_HEADER}` header, or use HTTP Basic; a session without its token gets 403
(`csrf`); a token gets 403 (`forbidden`: tokens only read); a member whose roles do not allow
the action gets 403 (`forbidden`). A new password ends every session signed in before it.

Every write says `Content-Type: application/json`, even when it sends no body (then `{{}}` is
meant); bodies are JSON objects of at most {MAX_JSON_BYTES:,} bytes. Every error has one
shape: `{{"error": {{"status", "code", "message"}}}}`.

The node answers only requests addressed to its own names (its URL, its address, localhost,
`[server] allowed_hosts`): any other `Host` gets 421 (`misdirected_request`). After a few
failed sign-ins (`POST /api/v1/session` or HTTP Basic) the name and address must wait a
growing time: 429 (`too_many_requests`) with `Retry-After`.
"""

ERRORS = {
    400: "Bad input: JSON syntax, a key given twice, a missing or mistyped field (named), or a "
    "bad parameter.",
    401: "No credentials, or wrong ones, or a session that ended (`unauthenticated`).",
    403: "Not allowed: the member's roles (`forbidden`), no CSRF token (`csrf`), or a write "
    "with an API token (`forbidden`).",
    404: "No such lesson or peer (`not_found`, `unknown_peer`).",
    413: "The body is over the limit (`payload_too_large`).",
    409: "This exact lesson was withdrawn here; it is not added again (`withdrawn`); or the "
    "peer's status does not allow the change (`peer_state`: a removed peer is paired with "
    "again, not resumed).",
    415: "The body is not `application/json` (`unsupported_media_type`).",
    429: "Too many failed sign-ins from this address or for this name (`too_many_requests`): "
    "wait the seconds in `Retry-After`.",
}
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
READ_ERRORS = (400, 401)
OPERATOR_ERRORS = (400, 401)
WRITE_SECURITY: Security = [{"basic": []}, {"session": [], "csrf": []}]
OPERATOR_SECURITY: Security = [{"basic": []}, {"session": []}, {"bearer": []}]
# Without credentials only with [server] public_read, and then only public lessons.
LESSON_SECURITY: Security = [*OPERATOR_SECURITY, {}]
PATH_PARAMETERS = {
    "id": "a record id, or a unique prefix of it (at least 4 hex characters)",
    "peer": "a peer's node id or its name",
}


@dataclass(frozen=True)
class Operation:
    """One route: ``name`` is the aiohttp route name and the operationId. ``answers`` are
    the types of its successful answer (several: one of them); ``body`` its request body,
    ``query`` its query parameters. A route of another media type gives ``media_type`` and
    ``plain`` (the schema of its text) instead of answers."""

    method: str
    path: str
    name: str
    summary: str
    answers: tuple[Message, ...] = ()
    status: int = 200
    also: tuple[tuple[int, str], ...] = ()  # other successes: (status, when), same answer
    body: Message | None = None
    body_required: bool = True
    query: Message | None = None
    errors: tuple[int, ...] = ()
    security: Security | None = None
    media_type: str = "application/json"
    plain: Schema | None = None


def write(
    method: str, path: str, name: str, summary: str, answer: Message, **rest: Any
) -> Operation:
    """A write: a member (Basic, or a session with its CSRF token), the write errors; on one
    lesson or peer (a path parameter) also 404, and no body unless ``body`` says otherwise."""
    if "{" in path:
        rest.setdefault("body", types.NoFields)
        rest.setdefault("body_required", False)
    errors = (*WRITE_ERRORS, *((404,) if "{" in path else ()), *rest.pop("errors", ()))
    return Operation(
        method, path, name, summary, (answer,), errors=errors, security=WRITE_SECURITY, **rest
    )


def operator_read(path: str, name: str, summary: str, answer: Message, **rest: Any) -> Operation:
    """A read of operator data: from afar only for a signed-in member."""
    errors = (*OPERATOR_ERRORS, *rest.pop("errors", ()))
    return Operation(
        "GET", path, name, summary, (answer,), errors=errors, security=OPERATOR_SECURITY, **rest
    )


def peer_change(path: str, name: str, summary: str) -> Operation:
    """A change of a peer's status: 409 when its status does not allow it."""
    return write("POST", path, name, summary, answers.Peer, errors=(409,))


# fmt: off
# An exchange's own work (node/web/api_exchange.py).
EXCHANGE_OPERATIONS: tuple[Operation, ...] = (
    operator_read("/api/v1/collections", "api_collections",
                  "The collections here (newest versions), each gap explained.",
                  exchange.CollectionList),
    write("POST", "/api/v1/collections", "api_collection_add",
          "Sign and store a new collection (curators and admins).", exchange.NewCollection,
          status=201, body=exchange.CollectionInput),
    operator_read("/api/v1/collections/{id}", "api_collection",
                  "One collection: its lessons in order, each gap with its reason.",
                  exchange.Collection, errors=(404,)),
    write("POST", "/api/v1/collections/{id}/lessons", "api_collection_change",
          "Add and remove lessons: a new version of the collection (curators and admins).",
          exchange.NewCollection, status=201, body=exchange.CollectionChange,
          body_required=True),
    operator_read("/api/v1/evaluations", "api_evaluations",
                  "Evaluations of exchanges, this hub's and its peers', with their sums.",
                  exchange.Evaluations),
    operator_read("/api/v1/follow-ups", "api_follow_ups",
                  "Follow-ups and milestones of this hub's action briefs due within a week.",
                  exchange.FollowUps),
)
OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/healthz", "healthz",
              "Liveness: the database answers. ?verbose adds the status: counts for anyone, "
              "all of it for members.",
              (answers.Health, answers.HealthCounts, answers.HealthStatus)),
    Operation("GET", "/metrics", "metrics", "Prometheus text; every name starts with rhizome_.",
              media_type="text/plain", plain={"type": "string"}),
    Operation("GET", "/api/v1/openapi.json", "api_openapi", "This document (OpenAPI 3.1).",
              plain={"type": "object"}),
    Operation("GET", "/api/v1/session", "api_session", "Who is signed in, and the CSRF token.",
              (answers.Session,)),
    Operation("POST", "/api/v1/session", "api_sign_in",
              "Sign in with a member's name and password.", (answers.Session,),
              body=types.SignIn, errors=(400, 401, 413, 415, 429)),
    Operation("DELETE", "/api/v1/session", "api_sign_out", "Sign out.", (answers.Session,)),
    Operation("GET", "/api/v1/lessons", "api_lessons",
              "The newest version of every lesson, or ranked search results with q.",
              (answers.LessonList, answers.SearchResults), query=types.LessonQuery,
              errors=READ_ERRORS, security=LESSON_SECURITY),
    write("POST", "/api/v1/lessons", "api_lesson_add",
          "Sign and store a new lesson (once: the same lesson again answers 200 with its id).",
          answers.NewLesson, status=201, body=types.LessonInput, errors=(409,),
          also=((200, "This very lesson was here already: its id, already_here true."),)),
    Operation("GET", "/api/v1/lessons/{id}", "api_lesson",
              "One lesson: body, consent, history, translations, approvals.",
              (answers.LessonDetail,), errors=(*READ_ERRORS, 404), security=LESSON_SECURITY),
    write("POST", "/api/v1/lessons/{id}/approve", "api_lesson_approve",
          "Approve this version for sharing (curators).", answers.Approval),
    write("POST", "/api/v1/lessons/{id}/accept", "api_lesson_accept",
          "Accept a quarantined lesson from a peer.", answers.Review),
    write("POST", "/api/v1/lessons/{id}/reject", "api_lesson_reject",
          "Reject and purge a quarantined lesson.", answers.Review),
    write("POST", "/api/v1/lessons/{id}/revoke", "api_lesson_revoke",
          "Withdraw a lesson written here, with every version and translation, everywhere "
          "(its author, stewards and admins).",
          answers.Revocation, body=types.RevokeInput, body_required=True),
    write("POST", "/api/v1/lessons/{id}/consent/withdraw", "api_consent_withdraw",
          "One participant withdraws consent to a lesson's photos and recordings: a new "
          "version without their attachments, the files purged everywhere (its author, "
          "stewards and admins).",
          answers.SubjectWithdrawal, body=types.WithdrawSubjectInput, body_required=True),
    Operation("GET", "/api/v1/lessons/{id}/receipts", "api_lesson_receipts",
              "For a revoked lesson: who purged it, who has not yet.", (answers.Receipts,),
              errors=(*READ_ERRORS, 404), security=OPERATOR_SECURITY),
    operator_read("/api/v1/peers", "api_peers", "The peers: status, last sync, counts.",
                  answers.PeerList),
    write("POST", "/api/v1/peers", "api_peer_add",
          "Pair with the hub that gave this invite code.", answers.Peer,
          status=201, body=types.PairInput),
    write("POST", "/api/v1/peers/invite", "api_peer_invite",
          "A one-time invite code for another hub.", answers.Invite,
          status=201, body=types.InviteInput, body_required=False),
    peer_change("/api/v1/peers/{peer}/suspend", "api_peer_suspend",
                "Stop exchanging with a peer for now."),
    peer_change("/api/v1/peers/{peer}/resume", "api_peer_resume",
                "Exchange with a suspended peer again."),
    peer_change("/api/v1/peers/{peer}/remove", "api_peer_remove", "Stop trusting a peer."),
    write("POST", "/api/v1/peers/{peer}/sync", "api_peer_sync",
          "Sync with a peer now, both ways.", answers.SyncReport),
    operator_read("/api/v1/purposes", "api_purposes",
                  "What this hub declares it uses lessons for.", answers.Purposes),
    write("POST", "/api/v1/purposes", "api_purposes_declare",
          "Declare what this hub uses lessons for; each peer gets it, signed, at the next "
          "sync (admins and stewards).", answers.Purposes, body=types.PurposesInput),
    operator_read("/api/v1/policy", "api_policy", "The sharing policy in force and its hash.",
                  answers.Policy),
    operator_read("/api/v1/policy/explain", "api_policy_explain",
                  "Whether a lesson may go to a peer, and why.", answers.Explanation,
                  query=types.ExplainQuery, errors=(404,)),
    operator_read("/api/v1/decisions", "api_decisions",
                  "The latest sharing decisions, newest first.", answers.DecisionList,
                  query=types.DecisionQuery),
    operator_read("/api/v1/events", "api_events", "The latest event-log entries, newest first.",
                  answers.EventList, query=types.LogQuery),
    operator_read("/api/v1/members", "api_members", "The members and their roles.",
                  answers.MemberList),
    operator_read("/api/v1/quarantine", "api_quarantine",
                  "Lessons from peers that wait for a curator.", answers.QuarantineList),
    *EXCHANGE_OPERATIONS,
)
# fmt: on


def ref(message: Message) -> Schema:
    return {"$ref": REF.format(name=message.__name__)}


def components() -> dict[str, Schema]:
    """The JSON Schema of every message of :data:`OPERATIONS`, and of the error shape."""
    messages: set[Message] = {answers.Error}
    for op in OPERATIONS:
        messages.update(op.answers)
        messages.update(m for m in (op.body, op.query) if m is not None)
    ordered = sorted(messages, key=lambda m: m.__name__)
    return msgspec.json.schema_components(ordered, ref_template=REF)[1]


def parameters(op: Operation, schemas: dict[str, Schema]) -> list[Schema]:
    """The path parameters named in the path, then the fields of the query type."""
    found: list[Schema] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
         "description": description}
        for name, description in PATH_PARAMETERS.items()
        if f"{{{name}}}" in op.path
    ]  # fmt: skip
    if op.query is not None:
        query = schemas[op.query.__name__]
        for name, schema in query["properties"].items():
            schema = dict(schema)
            description = schema.pop("description", "")
            found.append(
                {"name": name, "in": "query", "required": name in query.get("required", []),
                 "schema": schema, "description": description}
            )  # fmt: skip
    return found


def operation(op: Operation, schemas: dict[str, Schema]) -> Schema:
    """The OpenAPI operation object of one route."""
    if op.plain is not None:
        answer: Schema = op.plain
    else:
        answer = ref(op.answers[0]) if len(op.answers) == 1 else {
            "anyOf": [ref(m) for m in op.answers]
        }  # fmt: skip
    successes = ((op.status, op.summary), *op.also)
    responses: Schema = {
        str(status): {"description": words, "content": {op.media_type: {"schema": answer}}}
        for status, words in successes
    }
    if op.plain is None:
        for code in sorted(set(op.errors)):
            responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
        responses["default"] = {"$ref": "#/components/responses/Error"}
    found: Schema = {"operationId": op.name, "summary": op.summary, "responses": responses}
    if params := parameters(op, schemas):
        found["parameters"] = params
    if op.body is not None:
        found["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    if op.security is not None:
        found["security"] = op.security
    return found


def document() -> Schema:
    """The whole OpenAPI document."""
    schemas = components()
    paths: dict[str, Schema] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = operation(op, schemas)
    # Query types describe parameters, not bodies: they are not schemas of their own.
    for op in OPERATIONS:
        if op.query is not None:
            schemas.pop(op.query.__name__, None)
    responses: Schema = {f"Error{code}": error_response(text) for code, text in ERRORS.items()}
    responses["Error"] = error_response("Any other error, in the same shape.")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rhizome node API",
            "version": __version__,
            "description": DESCRIPTION,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a read-only API token (rhizome member token create)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "rhizome_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
    }


def error_response(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": ref(answers.Error)}},
    }


@routes.get("/api/v1/openapi.json", name="api_openapi")
async def openapi_json(request: web.Request) -> web.Response:
    """The API's description: no record content, so it answers every client."""
    return web.json_response(document())
