"""What the HTTP server itself enforces before any handler runs, and how it logs refusals.

- Deadlines: a connection must deliver a request's head within :data:`HEAD_DEADLINE` seconds
  (aiohttp's keep-alive timer runs from the moment a connection opens and after each answer,
  and closes a connection still waiting for a complete head), so a slow-loris sender is cut
  off; bodies have their own deadlines where they are read (federation routes, API writes).
- Sizes: the request line and each header are capped by the parser (:data:`MAX_LINE_BYTES`,
  :data:`MAX_FIELD_BYTES`); a URL over :data:`MAX_URL_BYTES` is answered ``414`` in the one
  error shape by :func:`refuse_long_urls`.
- Logging: a request refused for its size or shape is one WARNING line that names the
  address and the limit, never the URL or its query (which may hold a search or a token),
  and never a traceback: it is the sender's mistake, not the node's. aiohttp's access log is
  off for the same reason (``/metrics`` counts requests instead).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from node.web.client import client_of
from node.web.errors import error_response

log = logging.getLogger("rhizome.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_URL_BYTES = 8 * 1024
# The parser's own cap on the request line: above ours, so that most over-long URLs reach
# the middleware and get a 414; a line past this one is aiohttp's plain 400.
MAX_LINE_BYTES = 64 * 1024
MAX_FIELD_BYTES = 8 * 1024
HEAD_DEADLINE = 20.0  # above aiohttp clients' 15 s idle keep-alive, so no reuse race
LINGER_SECONDS = 2.0  # how long an unread, refused body is drained before the connection closes


class _RefusalLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger, with a malformed or oversized request (the sender's fault)
    logged as one WARNING line without the URL, instead of an ERROR with a traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            what = (
                "a request line or header over the limit"
                if isinstance(exc_info, LineTooLong)
                else f"a malformed request ({type(exc_info).__name__})"
            )
            remote = args[0] if args else "?"
            self.logger.warning("refused %s from %s", what, remote)
            return
        self.logger.exception(msg, *args, exc_info=exc_info, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return msg, kwargs


def server_settings() -> dict[str, Any]:
    """Keyword arguments for aiohttp's request handler (``web.Application(handler_args=…)``)."""
    return {
        "keepalive_timeout": HEAD_DEADLINE,
        "lingering_time": LINGER_SECONDS,
        "max_line_size": MAX_LINE_BYTES,
        "max_field_size": MAX_FIELD_BYTES,
        "logger": _RefusalLog(logging.getLogger("aiohttp.server"), {}),
        "access_log": None,  # it would name every URL, queries (searches, tokens) included
    }


@web.middleware
async def refuse_long_urls(request: web.Request, handler: Handler) -> web.StreamResponse:
    """414 for a URL over :data:`MAX_URL_BYTES`, before anything else looks at it."""
    size = len(request.raw_path.encode("utf-8", "surrogateescape"))
    if size > MAX_URL_BYTES:
        log.warning(
            "refused a URL of %d bytes (over %d) from %s", size, MAX_URL_BYTES,
            client_of(request).address,
        )
        return error_response(
            414, "uri_too_long", f"the URL is over the limit of {MAX_URL_BYTES} bytes"
        )
    return await handler(request)
