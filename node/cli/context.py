"""What every command gets from the global options, and the node it opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crypto.keyfile import PassphraseSource
from governance.members import Member
from node.node import Node


@dataclass
class CliContext:
    home: Path
    member: str
    _node: Node | None = field(default=None, repr=False)

    def node(self, passphrase: PassphraseSource | None = None) -> Node:
        """Open the node home (once per command); ``passphrase``: where a sealed home's
        passphrase comes from, when not the environment or a prompt (``serve``)."""
        if self._node is None:
            self._node = (
                Node(self.home) if passphrase is None else Node(self.home, passphrase=passphrase)
            )
        return self._node

    def acting_member(self) -> tuple[Node, Member]:
        """The node, and the acting member (``--as``); the action checks their right."""
        node = self.node()
        return node, node.member(self.member)

    def acting(self, action: str) -> tuple[Node, Member]:
        """The node, and the acting member (``--as``) if their roles allow ``action``."""
        node = self.node()
        return node, node.require(self.member, action)
