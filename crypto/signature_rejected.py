"""The one error of federation request signatures, with the check that failed."""

from __future__ import annotations

from typing import Literal

from crypto.errors import CryptoError

Reason = Literal[
    "missing",
    "malformed",
    "digest_mismatch",
    "stale",
    "replayed",
    "bad_signature",
    "unknown_key",
    "wrong_recipient",
]


class SignatureRejected(CryptoError):
    """A federation request's signature was refused; ``reason`` names the failed check.

    Answer 401 and do not act on the request. On the sending side: "stale" means the two
    clocks disagree (set them by NTP); "replayed" means the same signed request was sent twice
    (sign each attempt anew); anything else means the request was not made by
    :func:`crypto.http_signatures.sign_request` or was changed on its way.
    """

    http_status = 401
    code = "unauthenticated"

    def __init__(self, reason: Reason, message: str) -> None:
        self.reason: Reason = reason
        super().__init__(f"request signature rejected ({reason}): {message}")
