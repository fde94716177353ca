"""``rhizome demo``: three regional hubs on this machine, and the story of what they share.

Nairobi, Manila and São Paulo each get a home in a temporary folder, a web server on
127.0.0.1 and real pairing (Nairobi–Manila, Manila–São Paulo). The story then runs through
the real code paths, step by step in plain words: sharing with consent and a curator's
approval, a lesson for one peer only, a reshare along the chain, a lesson that stays home,
and a revocation whose signed receipts come back. Then the hubs keep serving until Ctrl-C,
and everything is deleted.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def samples_folder() -> Path:
    """The folder of sample lessons shipped inside the package."""
    return Path(str(resources.files("node") / "samples"))
