"""The composition root of a Rhizome node: config, CLI, web server, demo."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rhizome")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
