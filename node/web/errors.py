"""One error shape for every JSON answer, and the middleware that produces it.

Every error the API returns looks like ``{"error": {"status": 404, "code": "not_found",
"message": "…"}}``; a test pins this shape. Our own errors carry their status and code
(``RhizomeError.http_status``, ``.code``) and keep their one-line message; anything else
is a 500 that says nothing about internals (and is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from archive.db import is_storage_full, storage_full
from crypto.errors import RhizomeError

log = logging.getLogger("rhizome.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODE_FOR_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


# Answers that mean "not now": the client (a peer's sync, a script) should try again later.
RETRY_AFTER_SECONDS = {503: 30, 507: 60}


def error_response(status: int, code: str, message: str) -> web.Response:
    retry = RETRY_AFTER_SECONDS.get(status)
    return web.json_response(
        {"error": {"status": status, "code": code, "message": message}},
        status=status,
        headers={"Retry-After": str(retry)} if retry else None,
    )


# Machines get the JSON shape; a person's browser asking for a page gets a page.
MACHINE_PREFIXES = ("/api/", "/federation/", "/healthz", "/metrics")
HtmlErrorPage = Callable[[web.Request, int, str], Awaitable[web.Response]]
HTML_ERROR_PAGE: web.AppKey[HtmlErrorPage] = web.AppKey("html_error_page")


def wants_a_page(request: web.Request) -> bool:
    return not request.path.startswith(MACHINE_PREFIXES) and "text/html" in request.headers.get(
        "Accept", ""
    )


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        if wants_a_page(request) and HTML_ERROR_PAGE in request.app:
            return await request.app[HTML_ERROR_PAGE](request, error.status, error.reason)
        code = _CODE_FOR_STATUS.get(error.status, "http_error")
        return error_response(error.status, code, error.reason)
    except RhizomeError as error:
        response = error_response(error.http_status, error.code, str(error))
        if retry_after := getattr(error, "retry_after", None):  # a rate limit's own hint
            response.headers["Retry-After"] = str(retry_after)
        return response
    except Exception as error:
        if is_storage_full(error):  # a file write on a full disk: 507, as from the database
            full = storage_full(error)
            return error_response(full.http_status, full.code, str(full))
        log.exception("unexpected error while serving %s %s", request.method, request.path)
        return error_response(
            500, "internal_error", "the node hit an unexpected error; see its log"
        )
