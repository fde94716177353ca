"""Errors of the node layer (configuration, home directory, passphrase)."""

from __future__ import annotations

from crypto.errors import RhizomeError


class NodeError(RhizomeError):
    """The node cannot start or run a command; the message says why and what to do."""


class ConfigError(NodeError):
    """``config.toml`` is missing, damaged or holds a wrong value.

    Fix the line named in the message (or restore the file from a backup) and try again.
    """


class HomeError(NodeError):
    """The node home does not exist yet, or already exists where ``init`` would create one.

    Run ``rhizome init`` first, or pass ``--home`` (or set ``RHIZOME_HOME``) to pick another.
    """
