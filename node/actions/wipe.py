"""Wiping the node: who may, and the typed confirmation, for the CLI and the web page alike.

The wipe itself is :func:`node.wipe.wipe_home` (keys first, then the server, then the rest);
telling the peers first is :func:`federation.gone.tell_peers_gone`. Here is the rule both
front ends share: from the web only an admin may wipe (the CLI is whoever can read the home
folder, who could delete it anyway), and the confirmation typed must be the node's name,
exactly, so a stray click or a script without the flag never destroys a hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto.errors import RhizomeError
from governance.members import Member
from governance.roles import require


class WipeNotConfirmed(RhizomeError):
    """The confirmation typed was not the node's name: nothing was deleted. Type the name
    exactly as ``rhizome status`` shows it (or pass ``--yes-destroy-this-node`` in a script)."""

    http_status = 400
    code = "wipe_not_confirmed"


@dataclass(frozen=True)
class WipeNode:
    by: Member | None  # None: the CLI (the home's owner); a member must be an admin
    confirmation: str  # what was typed: must be the node's name
    tell_peers: bool = False


def authorize_wipe(node_name: str, request: WipeNode) -> None:
    """Raise unless this member may wipe and typed the node's name; changes nothing."""
    if request.by is not None:
        require(request.by.name, request.by.roles, "node.wipe")
    if request.confirmation.strip() != node_name:
        raise WipeNotConfirmed(
            f"the confirmation does not match the node's name ({node_name!r}); "
            "nothing was deleted"
        )
