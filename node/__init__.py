"""The composition root of a Rhizome node: config, CLI, web server, demo."""

from __future__ import annotations

import functools


@functools.cache
def _installed_version() -> str:
    # Looked up on first use: reading the installed packages' metadata costs about a tenth of
    # a second, which every command would otherwise pay at start-up.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rhizome")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'node' has no attribute {name!r}")
