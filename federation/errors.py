"""Errors of the federation layer.

Following h11, we tell apart what *we* got wrong (``FederationError``: a bad invite code, an
unknown peer name) from what *the other node* got wrong (``PeerProtocolError``: it sent junk
or broke a rule), because the second earns that peer a strike and the first does not.
"""

from __future__ import annotations

import math

from crypto.errors import RhizomeError


class FederationError(RhizomeError):
    """A federation operation failed; the message says why and what to do."""


class InvalidInvite(FederationError):
    """The invite code is mistyped, forged, expired or already used.

    Ask the other hub for a fresh code (``rhizome peer invite``) and paste it whole.
    """

    http_status = 403
    code = "invalid_invite"


class UnknownPeer(FederationError):
    """No peer by that id or name. ``rhizome peer list`` shows your peers."""

    http_status = 404
    code = "unknown_peer"


class NotAPeer(FederationError):
    """A federation request from a node that is not (or no longer) an active peer."""

    http_status = 403
    code = "not_a_peer"


class TooBusy(FederationError):
    """Too many requests from this peer at once; it should retry a little later.

    ``retry_after`` (whole seconds, when known) goes out as the ``Retry-After`` header."""

    http_status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))
        super().__init__(message)


class QuotaExceeded(TooBusy):
    """A peer sent more than its quota for this period (records or bytes); it may send
    again after ``retry_after`` seconds. The operator can raise ``[quotas]`` in config.toml."""

    code = "quota_exceeded"


class StorageQuotaFull(FederationError):
    """What we store from this peer (or hold in quarantine) is at its limit: nothing more is
    stored until the operator reviews or removes some, or raises the limit."""

    http_status = 507
    code = "quota_full"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))
        super().__init__(message)


class PeerUnreachable(FederationError):
    """The peer did not answer in time or refused the connection.

    Check its URL (``rhizome peer list``) and that its node is running; sync retries later.
    """


class PeerTooSlow(PeerUnreachable):
    """A sync with the peer ran past its deadline or below the minimum pace; it was cut
    short. What arrived is kept; sync tries again later. If it keeps happening, check the
    link to that peer (``rhizome peer list`` shows its last error)."""


class PeerRefused(FederationError):
    """The peer answered with an error (it may have suspended or removed us)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"the other hub refused: {message} ({status} {code})")


class PeerProtocolError(FederationError):
    """The other node broke the protocol: junk bytes, wrong types, a forbidden record."""

    code = "bad_message"


class UnsupportedMediaType(FederationError):
    """Federation bodies are msgpack (``Content-Type: application/msgpack``)."""

    http_status = 415
    code = "unsupported_media_type"


class BodyTooLarge(FederationError):
    """The request body is over the documented limit."""

    http_status = 413
    code = "payload_too_large"


class DeadlineExceeded(FederationError):
    """The request took longer than its deadline; it was abandoned and nothing was kept."""

    http_status = 503
    code = "deadline_exceeded"
