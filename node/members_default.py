"""The member a command acts as when none is named (``--as``), in a module of its own so the
command line can name it without loading the node."""

DEFAULT_MEMBER = "admin"
