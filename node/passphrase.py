"""Where a key file's passphrase comes from: ``RHIZOME_PASSPHRASE``, else a systemd
credential (a service started unattended), else a hidden prompt at a terminal."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from crypto.errors import KeyFileError
from node.i18n import gettext as _

ENV_VAR = "RHIZOME_PASSPHRASE"
CREDENTIAL = "rhizome-passphrase"  # the name to give it in a systemd unit
MAX_TRIES = 3  # at a terminal: a typo should not end the command


def may_ask_again() -> bool:
    """Whether a wrong passphrase can be asked again: typed at a terminal, not from the env."""
    return ENV_VAR not in os.environ and sys.stdin.isatty()


def passphrase_from_env_or_prompt() -> str:
    """The passphrase to open a sealed key file; asked only when one is needed."""
    if (value := os.environ.get(ENV_VAR)) is not None:
        return value
    if (value := _systemd_credential()) is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(_("Passphrase for the node key: "))
    raise KeyFileError(
        _("the node key is sealed with a passphrase: set {variable} or run in a terminal").format(
            variable=ENV_VAR
        )
    )


def new_passphrase(ask: bool) -> str | None:
    """A passphrase for a new key: from the environment, or typed twice when ``ask``."""
    if (value := os.environ.get(ENV_VAR)) is not None:
        return value or None
    if not ask:
        return None
    first = getpass.getpass(_("New passphrase for the node key (empty for none): "))
    if first and getpass.getpass(_("Type it again: ")) != first:
        raise KeyFileError(_("the two passphrases differ; nothing was created"))
    return first or None


def _systemd_credential() -> str | None:
    """The passphrase systemd hands this service (``LoadCredential[Encrypted]=`` named
    :data:`CREDENTIAL`): a private in-memory file, never in the environment."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return None
    try:
        text = (Path(folder) / CREDENTIAL).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise KeyFileError(f"cannot read the systemd credential {CREDENTIAL}: {error}") from error
    return text.rstrip("\n")
