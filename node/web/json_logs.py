"""The node's log lines: readable text by default, one JSON object per line with ``--log-json``.

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, then the
record's extras (``log.info("lesson added", extra={"record": id})``) as keys of their own, so
a log collector can filter on them. What we log names ids and counts, never a lesson's title,
text or consent details: callers pass ids in ``extra`` and keep content out of messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Every attribute a plain LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_BASE_KEYS = ("time", "level", "logger", "message")
LOG_LEVELS = ("debug", "info", "warning", "error")


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed in ``extra``."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line; an extra named like a base key is kept as ``extra_<key>``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extras(record).items():
            entry[f"extra_{key}" if key in _BASE_KEYS else key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """The classic line, with the extras appended as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, TEXT_DATE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = " ".join(f"{key}={value}" for key, value in extras(record).items())
        return f"{line} {pairs}" if pairs else line


class _NodeHandler(logging.StreamHandler[TextIO]):
    """Ours, so configuring again replaces it instead of doubling every line."""


def configure_logging(
    *, as_json: bool = False, stream: TextIO | None = None, level: str = "info"
) -> None:
    """Log ``level`` and above to ``stream`` (standard error), as text or as JSON lines.

    aiohttp's access log stays quiet: it would name every URL, search queries included.
    """
    handler = _NodeHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _NodeHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
