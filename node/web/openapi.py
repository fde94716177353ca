"""The OpenAPI 3.1 description of the JSON API, served at ``GET /api/v1/openapi.json``.

Written by hand, route by route, so it says what each route promises (a test walks the app's
router and checks that every ``/api/v1`` route, ``/healthz`` and ``/metrics`` is here, with
the route's name as its ``operationId``, and that nothing here is missing from the router).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from archive.record import KINDS, SENSITIVITIES
from federation.invites import DEFAULT_TTL
from federation.peers import PEER_STATUSES
from federation.revocation import REASONS
from node import __version__
from node.web.api import MAX_LOG_PAGE, MAX_PAGE
from node.web.api_writes import MAX_INVITE_TTL, MAX_JSON_BYTES, MIN_INVITE_TTL
from node.web.auth import CSRF_HEADER

Schema = dict[str, Any]
routes = web.RouteTableDef()

DESCRIPTION = f"""\
The JSON API of a Rhizome node: read and search lessons; add, approve, review and revoke
them; pair with peers and manage them; read the policy, the decision log and the event log.

Reads answer this machine only, unless the operator set `[server] public_read = true`;
peers, members, logs, policy and the quarantine queue also need a signed-in member when the
client is on another machine. Writes need a member: HTTP Basic with the password set by
`rhizome member password NAME`, or a session from `POST /api/v1/session` that sends its
CSRF token in the `{CSRF_HEADER}` header. Without credentials a write gets 401
(`unauthenticated`); a session without its token gets 403 (`csrf`); a member whose roles do
not allow the action gets 403 (`forbidden`).

Every write says `Content-Type: application/json`, even when it sends no body (then `{{}}` is
meant); bodies are JSON objects of at most {MAX_JSON_BYTES:,} bytes. Every error has one
shape: `{{"error": {{"status", "code", "message"}}}}`.

The node answers only requests addressed to its own names (its URL, its address, localhost,
`[server] allowed_hosts`): any other `Host` gets 421 (`misdirected_request`). After a few
failed sign-ins (`POST /api/v1/session` or HTTP Basic) the name and address must wait a
growing time: 429 (`too_many_requests`) with `Retry-After`.
"""


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: tuple[str, ...] = (), closed: bool = False, **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


TEXT: Schema = {"type": "string"}
TEXT_OR_NULL: Schema = {"type": ["string", "null"]}
TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
COUNT: Schema = {"type": "integer", "minimum": 0}
FLAG: Schema = {"type": "boolean"}
NODE_ID: Schema = {"type": "string", "description": "a node id"}
RECORD_ID: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
TEXTS: Schema = array(TEXT)

# fmt: off
SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        ("error",),
        closed=True,
        error=obj(
            ("status", "code", "message"),
            closed=True,
            status={"type": "integer"},
            code={**TEXT, "description": "stable, machine-readable (see the HTTP API page)"},
            message={**TEXT, "description": "one line for people: what is wrong, and the fix"},
        ),
    ),
    "Health": obj(("status", "version"), status={"const": "ok"}, version=TEXT),
    "SyncReport": obj(
        ("peer", "received", "sent", "rejected", "rounds", "errors"),
        peer=NODE_ID, received={"type": "integer"}, sent={"type": "integer"},
        rejected={"type": "integer"}, rounds={"type": "integer"}, errors=TEXTS,
    ),
    "LessonSummary": obj(
        ("id", "title", "kind", "language", "region", "origin", "created", "sensitivity"),
        id=RECORD_ID, title=TEXT, kind={"enum": list(KINDS)}, language=TEXT, region=TEXT,
        origin=NODE_ID, created=TIME, sensitivity={"enum": list(SENSITIVITIES)}, summary=TEXT,
        tags=TEXTS, scope=TEXT, author=TEXT_OR_NULL, supersedes=TEXT_OR_NULL,
        translation_of=TEXT_OR_NULL,
    ),
    "SearchHit": {
        "allOf": [
            ref("LessonSummary"),
            obj(("snippet", "rank"), snippet=TEXT, rank={"type": "number"}),
        ]
    },
    "LessonList": obj(
        ("lessons",),
        lessons=array({"anyOf": [ref("SearchHit"), ref("LessonSummary")]}),
        total={**COUNT, "description": "without q: how many lessons match the filters"},
        query={**TEXT, "description": "with q: the query as searched"},
    ),
    "Consent": obj(
        basis=TEXT, scope=TEXT, peers=TEXTS, regions=obj(allow=TEXTS, deny=TEXTS),
        reshare=FLAG, expires=TIME, purposes=TEXTS, subjects=array(ref("Subject")),
    ),
    "Subject": obj(
        pseudonym=TEXT, share=FLAG, recorded=FLAG, photographed=FLAG, expires=TIME, withdrawn=FLAG
    ),
    "Label": obj(("type", "name"), type=TEXT, name=TEXT, community=TEXT),
    "LessonDetail": {
        "allOf": [
            ref("LessonSummary"),
            obj(
                ("body", "consent", "history"),
                body=TEXT, consent=ref("Consent"), labels=array(ref("Label")),
                received_from=TEXT_OR_NULL, quarantined=FLAG,
                history=array(ref("LessonSummary")), translations=array(ref("LessonSummary")),
                approvals=array(obj(member=TEXT, at=TIME, verified=FLAG, counts=FLAG)),
            ),
        ]
    },
    "LessonInput": {
        **obj(
            ("title", "kind", "body"),
            closed=True,
            title=TEXT, kind={"enum": list(KINDS)},
            body={**TEXT, "description": "the lesson in Markdown"},
            summary=TEXT, language={**TEXT, "description": "BCP 47; default: the node's"},
            region={**TEXT, "description": "default: the node's"}, tags=TEXTS,
            sensitivity={"enum": list(SENSITIVITIES), "default": "low"},
            consent={
                "type": "object",
                "description": "as in a lesson file (no consent: the lesson stays here)",
            },
            labels=array(ref("Label")),
            supersedes={**TEXT, "description": "id or prefix of the version this replaces"},
            translation_of={**TEXT, "description": "id or prefix of the original"},
        ),
        "description": "The front matter of a lesson file, plus its body "
        "(docs/reference/lesson-format.md); the same checks as `rhizome lesson add`.",
    },
    "NewLesson": obj(
        ("id",),
        id=RECORD_ID,
        already_here={**FLAG, "description": "true (with status 200, not 201) when this very "
                      "lesson was here already: nothing new was stored"},
    ),
    "Approval": obj(
        ("id", "member", "new"),
        id=RECORD_ID, member=TEXT,
        new={**FLAG, "description": "false when this member had approved it already"},
    ),
    "Review": obj(("id", "status"), id=RECORD_ID, status={"enum": ["accepted", "rejected"]}),
    "RevokeInput": obj(
        ("reason",),
        closed=True,
        reason={"enum": list(REASONS)},
        note={**TEXT, "description": "kept on this node only; it never travels"},
    ),
    "Revocation": obj(
        ("id", "revocation", "records", "receipts"),
        id=RECORD_ID, revocation=TEXT, records=array(RECORD_ID),
        receipts={**TEXT, "description": "where to follow the receipts"},
    ),
    "Receipts": obj(
        ("record", "revocation", "purged", "pending", "holders"),
        record=RECORD_ID, revocation=TEXT, purged=COUNT, pending=COUNT,
        holders=array(obj(
            node=NODE_ID, name=TEXT_OR_NULL, status={"enum": ["purged", "pending"]}, at=TIME,
            direct=FLAG, verified=FLAG,
        )),
    ),
    "Peer": obj(
        ("id", "name", "region", "url", "status"),
        id=NODE_ID, name=TEXT, region=TEXT, url=TEXT, status={"enum": list(PEER_STATUSES)},
        added=TIME, last_sync=TIME, last_error=TEXT_OR_NULL, sent=COUNT, received=COUNT,
        strikes=COUNT,
    ),
    "PeerList": obj(("peers",), peers=array(ref("Peer"))),
    "InviteInput": obj(
        closed=True,
        ttl={
            "type": "integer", "minimum": MIN_INVITE_TTL, "maximum": MAX_INVITE_TTL,
            "default": DEFAULT_TTL, "description": "seconds until the code expires",
        },
    ),
    "Invite": obj(
        ("code", "node_id", "url", "expires"), code=TEXT, node_id=NODE_ID, url=TEXT, expires=TIME
    ),
    "PairInput": obj(("code",), closed=True, code={**TEXT, "description": "rhz1-…"}),
    "Policy": obj(("hash", "text"), hash=TEXT, text={**TEXT, "description": "policy.toml"}),
    "Explanation": obj(
        ("record", "peer", "decision", "reasons", "policy_hash"),
        record=RECORD_ID, peer=NODE_ID, decision={"enum": ["allow", "deny"]},
        reasons=array(obj(code=TEXT, text=TEXT, allows=FLAG)), policy_hash=TEXT,
    ),
    "DecisionList": obj(
        ("decisions",),
        decisions=array(obj(
            seq=COUNT, at=TIME, direction={"enum": ["outbound", "inbound"]}, record=RECORD_ID,
            peer=NODE_ID, decision={"enum": ["allow", "deny"]}, reasons=TEXTS, policy_hash=TEXT,
        )),
    ),
    "EventList": obj(
        ("events",),
        events=array(obj(
            seq=COUNT, at=TIME, kind=TEXT, subject=TEXT_OR_NULL, hash=TEXT,
            detail={"type": "object", "description": "ids and counts, never content"},
        )),
    ),
    "MemberList": obj(
        ("members",), members=array(obj(name=TEXT, roles=TEXTS, key=TEXT, added=TIME))
    ),
    "QuarantineList": obj(("lessons",), lessons=array(ref("LessonSummary"))),
    "SignIn": obj(("name", "password"), closed=True, name=TEXT, password=TEXT),
    "Session": obj(
        ("member", "roles"),
        member=TEXT_OR_NULL, roles=TEXTS,
        csrf_token={**TEXT, "description": f"send it in {CSRF_HEADER} with session writes"},
    ),
    "NoFields": obj(closed=True),
}
# fmt: on

ERRORS = {
    400: "Bad input: JSON syntax, a key given twice, a missing or mistyped field (named), or a "
    "bad parameter.",
    401: "No credentials, or wrong ones (`unauthenticated`).",
    403: "Not allowed: the member's roles (`forbidden`), no CSRF token (`csrf`), or reading "
    "from another machine while the node is not open (`forbidden`).",
    404: "No such lesson or peer (`not_found`, `unknown_peer`).",
    413: "The body is over the limit (`payload_too_large`).",
    409: "This exact lesson was withdrawn here; it is not added again (`withdrawn`).",
    415: "The body is not `application/json` (`unsupported_media_type`).",
    429: "Too many failed sign-ins from this address or for this name (`too_many_requests`): "
    "wait the seconds in `Retry-After`.",
}
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)
Security = list[dict[str, list[str]]]
WRITE_SECURITY: Security = [{"basic": []}, {"session": [], "csrf": []}]
OPERATOR_SECURITY: Security = [{}, {"basic": []}, {"session": []}]

RECORD_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": TEXT,
    "description": "a record id, or a unique prefix of it (at least 4 hex characters)",
}
PEER_PARAM = {
    "name": "peer",
    "in": "path",
    "required": True,
    "schema": TEXT,
    "description": "a peer's node id or its name",
}


def query(name: str, description: str, schema: Schema = TEXT, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def limit(default: int, high: int) -> Schema:
    schema = {"type": "integer", "minimum": 1, "maximum": high, "default": default}
    return query("limit", "how many at most", schema)


def operation(
    name: str,
    summary: str,
    answer: str,
    *,
    status: int = 200,
    body: str | None = None,
    body_required: bool = True,
    params: tuple[Schema, ...] = (),
    errors: tuple[int, ...] = (),
    security: Security | None = None,
) -> Schema:
    """One operation: ``name`` is the aiohttp route name and the operationId."""
    responses: Schema = {
        str(status): {
            "description": summary,
            "content": {"application/json": {"schema": ref(answer)}},
        }
    }
    for code in sorted(errors):
        responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    found: Schema = {"operationId": name, "summary": summary, "responses": responses}
    if params:
        found["parameters"] = list(params)
    if body is not None:
        found["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": ref(body)}},
        }
    if security is not None:
        found["security"] = security
    return found


def write(name: str, summary: str, answer: str, **options: Any) -> Schema:
    """A write: a member (Basic, or a session with its CSRF token), the write errors."""
    options.setdefault("errors", WRITE_ERRORS)
    return operation(name, summary, answer, security=WRITE_SECURITY, **options)


def operator_read(name: str, summary: str, answer: str, **options: Any) -> Schema:
    options.setdefault("errors", (400, 401, 403))
    return operation(name, summary, answer, security=OPERATOR_SECURITY, **options)


def lesson_action(name: str, summary: str, answer: str, **options: Any) -> Schema:
    """A write on one lesson; its body is empty unless ``body`` says otherwise."""
    return action(name, summary, answer, RECORD_PARAM, **options)


def peer_action(name: str, summary: str) -> Schema:
    return action(name, summary, "Peer", PEER_PARAM)


def action(name: str, summary: str, answer: str, param: Schema, **options: Any) -> Schema:
    options.setdefault("body", "NoFields")
    options.setdefault("body_required", False)
    errors = (*WRITE_ERRORS, 404)
    return write(name, summary, answer, params=(param,), errors=errors, **options)


def plain(name: str, summary: str, media_type: str, schema: Schema) -> Schema:
    """An operation that answers something other than our JSON shapes."""
    answer = {"description": summary, "content": {media_type: {"schema": schema}}}
    return {"operationId": name, "summary": summary, "responses": {"200": answer}}


# fmt: off
PATHS: dict[str, dict[str, Schema]] = {
    "/healthz": {"get": operation("healthz", "Liveness: the database answers. ?verbose adds "
                                  "the status: counts for anyone, all of it for members.",
                                  "Health")},
    "/metrics": {"get": plain("metrics", "Prometheus text; every name starts with rhizome_.",
                              "text/plain", TEXT)},
    "/api/v1/openapi.json": {"get": plain("api_openapi", "This document (OpenAPI 3.1).",
                                          "application/json", {"type": "object"})},
    "/api/v1/session": {
        "get": operation("api_session", "Who is signed in, and the CSRF token.", "Session"),
        "post": operation("api_sign_in", "Sign in with a member's name and password.", "Session",
                          body="SignIn", errors=(400, 401, 413, 415, 429)),
        "delete": operation("api_sign_out", "Sign out.", "Session"),
    },
    "/api/v1/lessons": {
        "get": operation(
            "api_lessons",
            "The newest version of every lesson, or ranked search results with q.",
            "LessonList",
            params=(
                query("q", "full-text search (case and accents ignored)"),
                query("kind", "only this kind", {"enum": list(KINDS)}),
                query("language", "only this language"),
                query("region", "only this region"),
                query("tag", "only lessons with this tag"),
                limit(50, MAX_PAGE),
                query("offset", "skip this many", {"type": "integer", "minimum": 0}),
            ),
            errors=(400, 403),
        ),
        "post": write("api_lesson_add", "Sign and store a new lesson (once: the same lesson "
                      "again answers 200 with its id).", "NewLesson",
                      status=201, body="LessonInput", errors=(*WRITE_ERRORS, 409)),
    },
    "/api/v1/lessons/{id}": {
        "get": operation("api_lesson",
                         "One lesson: body, consent, history, translations, approvals.",
                         "LessonDetail", params=(RECORD_PARAM,), errors=(400, 403, 404)),
    },
    "/api/v1/lessons/{id}/approve": {
        "post": lesson_action("api_lesson_approve",
                              "Approve this version for sharing (curators).", "Approval"),
    },
    "/api/v1/lessons/{id}/accept": {
        "post": lesson_action("api_lesson_accept",
                              "Accept a quarantined lesson from a peer.", "Review"),
    },
    "/api/v1/lessons/{id}/reject": {
        "post": lesson_action("api_lesson_reject",
                              "Reject and purge a quarantined lesson.", "Review"),
    },
    "/api/v1/lessons/{id}/revoke": {
        "post": lesson_action(
            "api_lesson_revoke",
            "Withdraw a lesson written here, with every version and translation, everywhere "
            "(its author, stewards and admins).",
            "Revocation",
            body="RevokeInput", body_required=True,
        ),
    },
    "/api/v1/lessons/{id}/receipts": {
        "get": operation("api_lesson_receipts",
                         "For a revoked lesson: who purged it, who has not yet.",
                         "Receipts", params=(RECORD_PARAM,), errors=(400, 403, 404)),
    },
    "/api/v1/peers": {
        "get": operator_read("api_peers", "The peers: status, last sync, counts.", "PeerList"),
        "post": write("api_peer_add", "Pair with the hub that gave this invite code.", "Peer",
                      status=201, body="PairInput"),
    },
    "/api/v1/peers/invite": {
        "post": write("api_peer_invite", "A one-time invite code for another hub.", "Invite",
                      status=201, body="InviteInput", body_required=False),
    },
    "/api/v1/peers/{peer}/suspend": {
        "post": peer_action("api_peer_suspend", "Stop exchanging with a peer for now."),
    },
    "/api/v1/peers/{peer}/resume": {
        "post": peer_action("api_peer_resume", "Exchange with a suspended peer again."),
    },
    "/api/v1/peers/{peer}/remove": {
        "post": peer_action("api_peer_remove", "Stop trusting a peer."),
    },
    "/api/v1/peers/{peer}/sync": {
        "post": action("api_peer_sync", "Sync with a peer now, both ways.", "SyncReport",
                       PEER_PARAM),
    },
    "/api/v1/policy": {
        "get": operator_read("api_policy", "The sharing policy in force and its hash.", "Policy"),
    },
    "/api/v1/policy/explain": {
        "get": operator_read(
            "api_policy_explain", "Whether a lesson may go to a peer, and why.", "Explanation",
            params=(
                query("record", "record id or prefix", required=True),
                query("peer", "peer node id or name", required=True),
            ),
            errors=(400, 401, 403, 404),
        ),
    },
    "/api/v1/decisions": {
        "get": operator_read(
            "api_decisions", "The latest sharing decisions, newest first.", "DecisionList",
            params=(limit(50, MAX_LOG_PAGE), query("record", "only this record")),
        ),
    },
    "/api/v1/events": {
        "get": operator_read("api_events", "The latest event-log entries, newest first.",
                             "EventList", params=(limit(50, MAX_LOG_PAGE),)),
    },
    "/api/v1/members": {
        "get": operator_read("api_members", "The members and their roles.", "MemberList"),
    },
    "/api/v1/quarantine": {
        "get": operator_read("api_quarantine", "Lessons from peers that wait for a curator.",
                             "QuarantineList"),
    },
}
# fmt: on


def document() -> Schema:
    """The whole OpenAPI document."""
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
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": responses,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "rhizome_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
    }


def error_response(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


@routes.get("/api/v1/openapi.json", name="api_openapi")
async def openapi_json(request: web.Request) -> web.Response:
    """The API's description: no record content, so it answers every client."""
    return web.json_response(document())
