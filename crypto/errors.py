"""The root of every error Rhizome raises on purpose.

It lives in ``crypto`` because that is the lowest layer: every other layer may import it,
so one ``except RhizomeError`` at the edge (the CLI, the HTTP error middleware) catches every
failure we meant to report, and anything else is a bug that deserves its traceback.

Each subclass says in its docstring what the person who sees it can do next.
"""

from __future__ import annotations

from typing import Self


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalogs (``pybabel extract`` finds ``N_``): the
    layers below ``node`` cannot import ``node.i18n``, so they mark, and the node translates
    where a person reads it."""
    return message


class RhizomeError(Exception):
    """Something went wrong that we can explain in one line.

    ``str(error)`` is that line: it names what is wrong and where (file, field, record)
    and, when there is one, the remedy. ``http_status`` and ``code`` say how the HTTP
    layers answer it (one JSON error shape everywhere).
    """

    http_status: int = 400
    code: str = "rejected"
    # An error made with `worded` also keeps its line as a template and its values, so the
    # CLI and the pages say it in the reader's language (node.i18n.error_text); str(error),
    # logs and JSON stay English. (This docstring is a catalog message: comments go here.)
    template: str | None = None
    values: dict[str, object] | None = None

    @classmethod
    def worded(cls, template: str, **values: object) -> Self:
        """The error whose line is ``template`` filled with ``values`` (``template`` marked
        with ``N_`` where it is written, so the catalogs have it)."""
        error = cls(template.format(**values))
        error.template, error.values = template, values
        return error


class CryptoError(RhizomeError):
    """A key, signature or encoding problem."""


class BadSignature(CryptoError):
    """A signature does not verify: the data was changed, or signed by another key.

    Do not trust the data; fetch it again from its origin.
    """

    code = "bad_signature"


class NonCanonicalEncoding(CryptoError):
    """Bytes decode, but are not the one canonical encoding we sign.

    Someone re-encoded the record; it is refused so that one record has exactly one id.
    """


class MalformedData(CryptoError):
    """Bytes that are not a well-formed Rhizome structure (wrong type, missing field, junk)."""


class KeyFileError(CryptoError):
    """The key file is missing, damaged or unreadable.

    Restore it from your backup; without it the node cannot sign.
    """


class WrongPassphrase(KeyFileError):
    """The passphrase does not open the key file.

    Check RHIZOME_PASSPHRASE or type it again; there is no way around it.
    """


class InvalidNodeId(CryptoError):
    """A node id is mistyped: wrong length, a character outside the alphabet or a failed
    check character. Compare it again with the id the other hub reads out."""
