"""What ``pybabel extract`` takes from Python files (named in babel.cfg).

Besides the usual ``_()``, ``N_()`` and ``ngettext()`` calls, every error class the
people using a hub may see (a subclass of :class:`~crypto.errors.RhizomeError`) brings its
docstring: it says what went wrong and what to do next, and the CLI and the error pages show
it in the reader's language (:func:`remedy`). Lower layers cannot import ``node.i18n``, so
their error texts are found here rather than marked where they are written.
"""

from __future__ import annotations

import ast
import importlib
import io
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from babel.messages.extract import extract_python

from crypto.errors import RhizomeError
from node.i18n import remedy_text

Extracted = tuple[Any, ...]  # (line, function, message(s), comments[, context])


def extract_python_and_remedies(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[Extracted]:
    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)  # type: ignore[arg-type]
    yield from _error_docstrings(source, getattr(fileobj, "name", ""))


def _error_docstrings(source: bytes, filename: str) -> Iterator[Extracted]:
    module_name = _module_name(filename)
    if module_name is None:
        return
    module = importlib.import_module(module_name)
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        value = getattr(module, node.name, None)
        if isinstance(value, type) and issubclass(value, RhizomeError):
            text = remedy_text(ast.get_docstring(node, clean=False))
            if text:
                yield (node.lineno, "_", text, [])


def _module_name(filename: str) -> str | None:
    path = Path(filename).resolve()
    try:
        relative = path.relative_to(Path.cwd().resolve())
    except ValueError:
        return None
    if relative.suffix != ".py":
        return None
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
