"""How ``rhizome serve`` opens a home: where a sealed home's passphrase comes from, and the
unlock page when none is at hand (node/web/locked.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import sys
from pathlib import Path

from crypto.keyfile import PassphraseSource
from node.cli.output import console, err_console
from node.config import load_config
from node.home import HomePaths
from node.i18n import N_
from node.i18n import gettext as _
from node.passphrase import CREDENTIAL, ENV_VAR, passphrase_from_env_or_prompt
from node.passphrase_sources import read_passphrase_file, read_removable_key
from node.sealed_home import is_sealed
from node.web.locked import locked_app, unlock_tls, wait_for_unlock

# Shown translated (_(...)); logged in English.
UNSEALED_WARNING = N_(
    "this node home is NOT sealed: its database, keys and secrets lie in plain text on disk, "
    "so whoever takes the machine reads every lesson. Fine for a lab or a demo; for a hub, "
    "run `rhizome seal` (see docs/how-to/seal-your-hub.md)."
)
ENV_WARNING = N_(
    "RHIZOME_PASSPHRASE is set: a passphrase in the environment can be read from /proc, crash "
    "reports and service logs. For a service use --passphrase-file, a key on removable "
    "media (--passphrase-media) or a systemd credential (docs/how-to/seal-your-hub.md)."
)


def passphrase_source(
    paths: HomePaths, passphrase_file: Path | None, passphrase_media: Path | None
) -> PassphraseSource | None:
    """The passphrase's source for ``serve``: a file, a removable medium, else the usual
    ones (a systemd credential, a terminal) if any is at hand; None when the home is sealed
    and nothing can give it (then the unlock page asks)."""
    if passphrase_file is not None:
        text = read_passphrase_file(passphrase_file)  # checked before anything starts
        return lambda: text
    if passphrase_media is not None:
        medium = read_removable_key(passphrase_media, paths.root)
        return lambda: medium
    if not is_sealed(paths.root):
        return passphrase_from_env_or_prompt  # a node key sealed the old way asks as before
    if ENV_VAR in os.environ:
        err_console.print(_("Warning: {problem}").format(problem=_(ENV_WARNING)), markup=False)
        return passphrase_from_env_or_prompt
    if _has_credential() or sys.stdin.isatty():
        return passphrase_from_env_or_prompt
    return None


def _has_credential() -> bool:
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    return folder is not None and (Path(folder) / CREDENTIAL).is_file()


def unlock_in_browser(paths: HomePaths, host: str, port: int) -> str:
    """Serve the unlock page until the right passphrase is typed there; return it."""
    config = load_config(paths.config)
    context, fingerprint = unlock_tls(paths) if config.tls else (None, "")
    scheme = "https" if context else "http"
    shown = host if not _is_ipv6(host) else f"[{host}]"
    console.print(
        _(
            "{name} is sealed and locked: open {url} and type the passphrase to start it "
            "(Ctrl-C to stop)."
        ).format(name=config.name, url=f"{scheme}://{shown}:{port}/"),
        markup=False,
    )
    if fingerprint:
        console.print(
            "  "
            + _("unlock page certificate (made for this start only)  {fingerprint}").format(
                fingerprint=fingerprint
            ),
            markup=False,
            emoji=False,
        )
    app = locked_app(paths, config.name)
    return asyncio.run(wait_for_unlock(app, host, port, context))


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False
