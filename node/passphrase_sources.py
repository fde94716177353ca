"""Choosing a passphrase, and the ways an unattended ``serve`` gets one (never from an
environment variable: a process's environment is readable by more than the process and ends
up in crash reports, ``ps e`` and service managers' logs).

- :func:`propose_passphrase`: six words from the EFF long word list (about 77 bits), the
  suggestion ``init`` and ``seal`` make;
- :func:`read_passphrase_file`: a file that only its owner can read (mode 0600, owned by
  the user who runs the node), e.g. on an encrypted root file system;
- :func:`read_removable_key`: a file on a removable medium (a USB stick), which must lie on
  another file system than the home: pull the stick and the node cannot be unlocked;
- systemd credentials (``LoadCredentialEncrypted=``), read from ``$CREDENTIALS_DIRECTORY``
  (:func:`node.passphrase.passphrase_from_env_or_prompt` reads them).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from diceware import WordList, get_wordlist_path

from crypto.errors import KeyFileError
from node.i18n import N_

PROPOSED_WORDS = 6
MAX_PASSPHRASE_FILE = 4096
# Shown translated: _(CHOOSING_SCREEN).format(proposal=...).
CHOOSING_SCREEN = N_("""\
A passphrase seals this hub: its database, its keys and its secrets are encrypted on disk,
so whoever takes the machine or its disk reads nothing without it.

  Proposed passphrase:  {proposal}

Six random words are strong (about 77 bits) and can be written down and typed. Write it
on paper and keep it apart from the machine: without it (and without a backup) nobody,
not even you, can open this hub again. Type it below, or choose your own (four words or
more; not a sentence you have published). Press Enter on an empty line for no passphrase:
only for labs and demos, the hub then lies in plain text on disk.
""")


class PassphraseFileRefused(KeyFileError):
    """The passphrase file is readable by others, owned by someone else, or not a plain
    file. Make it yours and private: ``chown $USER F && chmod 600 F``."""


def propose_passphrase(words: int = PROPOSED_WORDS) -> str:
    """Random words from the EFF long list, separated by spaces."""
    vocabulary = [word for word in WordList(get_wordlist_path("en_eff")) if word.isalpha()]
    return " ".join(secrets.choice(vocabulary) for _ in range(words))


def read_passphrase_file(path: Path) -> str:
    """The passphrase in ``path``: refused unless it is a regular file, owned by the user who
    runs the node and readable by nobody else (mode 0600 or 0400)."""
    info = _stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise PassphraseFileRefused.worded(N_("{path}: not a regular file; refusing it"), path=path)
    if info.st_uid != os.geteuid():
        raise PassphraseFileRefused.worded(
            N_("{path}: owned by another user; refusing it"), path=path
        )
    if info.st_mode & 0o077:
        raise PassphraseFileRefused.worded(
            N_("{path}: readable by others (mode {mode}); refusing it: chmod 600 {path}"),
            path=path,
            mode=f"{stat.S_IMODE(info.st_mode):04o}",
        )
    return _read_text(path)


def read_removable_key(path: Path, home: Path) -> str:
    """The passphrase in a file on a removable medium: it must be on another file system
    than the home (else the key would lie beside what it protects)."""
    info = _stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise PassphraseFileRefused.worded(N_("{path}: not a regular file; refusing it"), path=path)
    if info.st_dev == os.stat(home).st_dev:
        raise PassphraseFileRefused.worded(
            N_(
                "{path}: on the same disk as the node home; a key on removable media must be "
                "on the medium (a USB stick), or use --passphrase-file"
            ),
            path=path,
        )
    return _read_text(path)


def _stat(path: Path) -> os.stat_result:
    try:
        return os.stat(path, follow_symlinks=False)
    except FileNotFoundError as error:
        raise KeyFileError.worded(
            N_("{path}: no such file (is the medium plugged in?)"), path=path
        ) from error
    except OSError as error:
        raise KeyFileError.worded(
            N_("{path}: cannot read it ({reason})"), path=path, reason=error.strerror
        ) from error


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_PASSPHRASE_FILE + 1)
    except OSError as error:
        raise KeyFileError.worded(
            N_("{path}: cannot read it ({reason})"), path=path, reason=error.strerror
        ) from error
    if len(data) > MAX_PASSPHRASE_FILE:
        raise KeyFileError.worded(N_("{path}: too large for a passphrase file"), path=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise KeyFileError.worded(N_("{path}: not UTF-8 text"), path=path) from error
    passphrase = text.rstrip("\r\n")
    if not passphrase:
        raise KeyFileError.worded(N_("{path}: empty; it must hold the passphrase"), path=path)
    return passphrase
