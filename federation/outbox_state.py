"""The life of one outbox item, sans-IO: one table, as h11 keeps its states.

An outbox item is one revocation or one purge receipt waiting for one peer. Handing it out
(in a push, or in the answer to the peer's ``/outbox`` pull) does not end it: the answer can
be lost, the peer's disk can be full, a replayer can pull in its place. Only the peer's
signed acknowledgement ends it:

* a revocation is acknowledged by the holder's signed purge receipt for it (the strongest
  acknowledgement there is: proof that the purge is done);
* a receipt is acknowledged by a signed ack naming its id (``federation.acks``).

::

    queued --hand_out----> sent             attempts + 1, next attempt after a backoff
    sent   --hand_out----> sent             a re-send: the peer never acknowledged
    queued --acknowledge-> acknowledged     acknowledged on another path before we sent it
    sent   --acknowledge-> acknowledged     the row is deleted

``acknowledged`` is final: the row is deleted in the same transaction, so it is never
stored. Anything not in the table is our own bug and raises :class:`OutboxStateError`.
"""

from __future__ import annotations

from federation.errors import FederationError

QUEUED = "queued"
SENT = "sent"
ACKNOWLEDGED = "acknowledged"
STATES = (QUEUED, SENT, ACKNOWLEDGED)

HAND_OUT = "hand_out"
ACKNOWLEDGE = "acknowledge"
EVENTS = (HAND_OUT, ACKNOWLEDGE)

TRANSITIONS: dict[tuple[str, str], str] = {
    (QUEUED, HAND_OUT): SENT,
    (SENT, HAND_OUT): SENT,
    (QUEUED, ACKNOWLEDGE): ACKNOWLEDGED,
    (SENT, ACKNOWLEDGE): ACKNOWLEDGED,
}

# The first re-send waits this long, each later one twice as long, up to the cap: a peer
# that lost an answer gets the item again soon, one that never acknowledges costs little.
FIRST_RETRY_SECONDS = 5
MAX_RETRY_SECONDS = 3600


class OutboxStateError(FederationError):
    """An outbox item was asked to do what its state does not allow: a bug in this node,
    never the peer's doing. Report it with the state and event named in the message."""

    http_status = 500
    code = "outbox_state"


def next_state(state: str, event: str) -> str:
    """The state an item in ``state`` moves to on ``event``; raises if the table has none."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise OutboxStateError(
            f"an outbox item that is {state!r} cannot take the event {event!r}"
        ) from None


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th hand-out before handing out again."""
    if attempts < 1:
        raise ValueError("an item handed out has made at least one attempt")
    return int(min(FIRST_RETRY_SECONDS * 2 ** min(attempts - 1, 20), MAX_RETRY_SECONDS))
