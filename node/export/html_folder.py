"""A collection as a static HTML folder: ``index.html``, one page per lesson, ``style.css``.

Nothing in it points outside the folder: no script, no font or image from the network,
relative links only, the stylesheet copied beside the pages. It opens from a USB stick on
a computer that never saw the node. Lesson bodies are rendered like the node's own pages
(Markdown without raw HTML, sanitized by nh3), and each lesson carries its own ``lang`` and
``dir`` so an Arabic lesson reads right to left inside any copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from archive.record import Lesson
from node.export.attachments import CopiedFile
from node.i18n import current_language, direction, install_in_jinja
from node.web.pages.markdown import render_body

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "export"
STYLE = TEMPLATES / "style.css"


@dataclass(frozen=True)
class CopyLesson:
    """One lesson of the copy, with the file name its page gets."""

    lesson: Lesson
    page: str  # "01.html", relative to the folder
    files: tuple[CopiedFile, ...] = ()  # its attachments that go in (node.export.attachments)

    @property
    def direction(self) -> str:
        return direction(self.lesson.language.split("-")[0])

    @property
    def body_html(self) -> str:
        return render_body(self.lesson.body)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True
    )
    install_in_jinja(environment)
    return environment


def html_pages(
    title: str,
    cohort: str,
    introduction: str,
    lessons: list[Lesson],
    files: list[list[CopiedFile]] | None = None,
) -> dict[str, str | bytes]:
    """File name → content of every file of the folder (pure: nothing is written)."""
    environment = _environment()
    ui = current_language()
    attached = files or [[] for _ in lessons]
    copies = [
        CopyLesson(lesson, f"{index:02d}.html", tuple(attached[index - 1]))
        for index, lesson in enumerate(lessons, 1)
    ]
    common = {"title": title, "cohort": cohort, "lang": ui, "dir": direction(ui)}
    folder: dict[str, str | bytes] = {
        "index.html": environment.get_template("index.html").render(
            **common, introduction=render_body(introduction), lessons=copies
        ),
        "style.css": STYLE.read_text(encoding="utf-8"),
    }
    for index, copy in enumerate(copies):
        folder[copy.page] = environment.get_template("lesson.html").render(
            **common,
            copy=copy,
            previous=copies[index - 1] if index else None,
            next=copies[index + 1] if index + 1 < len(copies) else None,
        )
        folder.update({copied.name: copied.data for copied in copy.files})
    return folder


def write_folder(folder: Path, files: dict[str, str | bytes]) -> None:
    """Write the files into ``folder``, which must not exist yet (no copy is overwritten)."""
    folder.mkdir(parents=True, exist_ok=False)
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
