"""The attachment options of ``rhizome lesson add``.

``--attach FILE`` (repeatable) names a file; ``--caption FILE=TEXT`` and
``--subjects FILE=Heron,Kite`` say, for the file of that name, what it shows and who is in
it. Keyed by file name, not by position, so the order of the options never matters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archive.attachment_intake import AttachmentInput, AttachmentSpec, Caps, read_spec
from node.i18n import gettext as _

ATTACH_HELP = "Attach a photo, recording or document (repeat for several)."
CAPTION_HELP = "FILE=TEXT: the caption of the attached FILE."
SUBJECTS_HELP = (
    "FILE=NAME,NAME: the pseudonyms of the people the attached FILE shows or records "
    "(each needs an entry in consent.subjects)."
)


def attachment_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        (
            click.option(
                "--attach",
                multiple=True,
                help=ATTACH_HELP,
                type=click.Path(dir_okay=False, path_type=Path),
            ),
            click.option("--caption", multiple=True, metavar="FILE=TEXT", help=CAPTION_HELP),
            click.option("--subjects", multiple=True, metavar="FILE=NAMES", help=SUBJECTS_HELP),
        )
    ):
        command = option(command)
    return command


def _keyed(values: tuple[str, ...], option: str, files: set[str]) -> dict[str, str]:
    keyed: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or name not in files:
            raise click.BadParameter(
                _("{value}: write FILE=..., where FILE is one of the --attach files").format(
                    value=repr(value)
                ),
                param_hint=option,
            )
        keyed[name] = text
    return keyed


def attachment_inputs(
    attach: tuple[Path, ...], caption: tuple[str, ...], subjects: tuple[str, ...], caps: Caps
) -> list[AttachmentInput]:
    """The --attach files read, with their captions and subjects."""
    names = {str(path) for path in attach} | {path.name for path in attach}
    captions = _keyed(caption, "--caption", names)
    people = _keyed(subjects, "--subjects", names)
    inputs = []
    for path in attach:
        key = str(path) if str(path) in captions or str(path) in people else path.name
        listed = tuple(name.strip() for name in people.get(key, "").split(",") if name.strip())
        spec = AttachmentSpec(path.name, captions.get(key, "").strip(), listed)
        inputs.append(read_spec(spec, path.parent, str(path), caps))
    return inputs
