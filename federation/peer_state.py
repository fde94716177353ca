"""The standing of one peer, sans-IO: one table, as h11 keeps its states.

A peer's ``status`` column holds where it stands with us; every change of it (the operator's
``peer suspend|resume|remove`` from the CLI, the JSON API or the Peers page, and pairing in
either direction) is an event looked up here, so no front-end can move a peer where the
federation routes would contradict it (a removed peer "resumed" while the routes tell it to
pair first)::

    unpaired  --pair----> active      an invite used, either way
    active    --pair----> active      pairing again updates the peer's URL only
    suspended --pair----> active      pairing again is the operator trusting it again
    removed   --pair----> active      the only way back for a removed peer
    active    --suspend-> suspended
    suspended --suspend-> suspended   already suspended: nothing changes
    suspended --resume--> active
    active    --resume--> active      already active: nothing changes
    active    --remove--> removed
    suspended --remove--> removed
    active    --depart--> gone        the peer's signed "this node is gone" notice (a wipe)
    suspended --depart--> gone
    gone      --depart--> gone        told twice: nothing changes
    gone      --pair----> active      it came back (restored from a backup) and paired again
    gone      --remove--> removed
    active    --fork----> forked      its key history forked: two statements follow one (issue 15)
    suspended --fork----> forked
    forked    --fork----> forked      seen again: nothing changes
    forked    --resume--> active      the operator decided (or a recovery settled the fork)
    forked    --pair----> active
    forked    --remove--> removed

``unpaired`` is never stored: it is a node with no row in ``peers``. ``removed`` keeps the
row (its deliveries still say where revocations must go) and takes only ``pair``: resuming,
suspending or removing it again raises :class:`PeerStateError`, whose message names the
state and says what to do. ``gone`` is a peer that told us, signed by its node key, that it
was wiped (federation/gone.py): nothing is sent to it any more, and the operator sees it.
``forked`` is a peer whose key history shows two different statements after one statement
(federation/key_exchange.py): both are kept as signed evidence and nothing is exchanged
with it until an operator decides.
"""

from __future__ import annotations

from federation.errors import FederationError

UNPAIRED = "unpaired"
ACTIVE = "active"
SUSPENDED = "suspended"
REMOVED = "removed"
GONE = "gone"
FORKED = "forked"
STORED_STATES = (ACTIVE, SUSPENDED, REMOVED, GONE, FORKED)
STATES = (UNPAIRED, *STORED_STATES)

PAIR = "pair"
SUSPEND = "suspend"
RESUME = "resume"
REMOVE = "remove"
DEPART = "depart"
FORK = "fork"
EVENTS = (PAIR, SUSPEND, RESUME, REMOVE, DEPART, FORK)

TRANSITIONS: dict[tuple[str, str], str] = {
    (UNPAIRED, PAIR): ACTIVE,
    (ACTIVE, PAIR): ACTIVE,
    (SUSPENDED, PAIR): ACTIVE,
    (REMOVED, PAIR): ACTIVE,
    (ACTIVE, SUSPEND): SUSPENDED,
    (SUSPENDED, SUSPEND): SUSPENDED,
    (SUSPENDED, RESUME): ACTIVE,
    (ACTIVE, RESUME): ACTIVE,
    (ACTIVE, REMOVE): REMOVED,
    (SUSPENDED, REMOVE): REMOVED,
    (ACTIVE, DEPART): GONE,
    (SUSPENDED, DEPART): GONE,
    (GONE, DEPART): GONE,
    (GONE, PAIR): ACTIVE,
    (GONE, REMOVE): REMOVED,
    (ACTIVE, FORK): FORKED,
    (SUSPENDED, FORK): FORKED,
    (FORKED, FORK): FORKED,
    (FORKED, RESUME): ACTIVE,
    (FORKED, PAIR): ACTIVE,
    (FORKED, REMOVE): REMOVED,
}

# What to tell the operator when an event does not apply, by the state the peer is in.
_REMEDY = {
    UNPAIRED: "this node is not a peer: pair with it first (`rhizome peer invite` or `peer add`)",
    REMOVED: "this peer was removed: pair with it again (`rhizome peer invite` or `peer add`)",
    GONE: "this peer said it was wiped (gone): pair with it again if it came back",
    FORKED: (
        "its key history forked: compare its node id and key with its operator by phone, "
        "then `rhizome peer resume` or `rhizome peer remove`"
    ),
}


class PeerStateError(FederationError):
    """A peer was asked to change in a way its standing does not allow, e.g. resuming a
    removed peer. The message names its state; a removed peer comes back only by pairing
    with it again (``rhizome peer invite`` or ``rhizome peer add``)."""

    http_status = 409
    code = "peer_state"

    def __init__(self, state: str, event: str) -> None:
        self.state = state
        self.event = event
        remedy = _REMEDY.get(state, f"a peer that is {state} cannot {event}")
        super().__init__(f"cannot {event}: {remedy}")


def next_state(state: str, event: str) -> str:
    """The status a peer in ``state`` moves to on ``event``; raises if the table has none."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise PeerStateError(state, event) from None
