"""A collection as one PDF (fpdf2): a title page with the introduction, then each lesson.

The text is set in DejaVu Sans, a Unicode font with Latin, Greek, Cyrillic and Arabic
glyphs, shaped by HarfBuzz (fpdf2's text shaping) so Arabic letters join and run right to
left. The font is not bundled: :func:`find_font` takes the copy that comes with matplotlib or
the system's (``fonts-dejavu-core``), or the file named by ``RHIZOME_PDF_FONT``. Bodies are
printed as their Markdown text: a printed page needs no markup to be read.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path

from fpdf import FPDF

from archive.record import Lesson
from node.errors import NodeError
from node.export.attachments import CopiedFile

FONT_FILE = "DejaVuSans.ttf"
SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu") / FONT_FILE,
    Path("/usr/share/fonts/dejavu") / FONT_FILE,
    Path("/usr/share/fonts/TTF") / FONT_FILE,
)


class NoPdfFont(NodeError):
    """No Unicode font was found to print the PDF. Install DejaVu Sans (``apt install
    fonts-dejavu-core``) or set RHIZOME_PDF_FONT to a .ttf file; the HTML export needs none."""

    code = "no_pdf_font"


def find_font() -> Path:
    """The DejaVu Sans file to embed: RHIZOME_PDF_FONT, matplotlib's copy, the system's."""
    candidates = (
        [Path(os.environ["RHIZOME_PDF_FONT"])] if os.environ.get("RHIZOME_PDF_FONT") else []
    )
    spec = importlib.util.find_spec("matplotlib")  # located, never imported
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / FONT_FILE)
    candidates.extend(SYSTEM_FONTS)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise NoPdfFont("no DejaVu Sans font found for the PDF")


def pdf_bytes(
    title: str,
    cohort: str,
    introduction: str,
    lessons: list[Lesson],
    images: list[list[CopiedFile]] | None = None,
) -> bytes:
    """The PDF of a collection, with each lesson's ``images`` after its text (pure)."""
    pictures = images or [[] for _ in lessons]
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Rhizome")
    pdf.add_font("DejaVu", "", str(find_font()))
    pdf.set_font("DejaVu", size=11)
    pdf.set_text_shaping(True)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    _heading(pdf, title, 20)
    _paragraph(pdf, cohort, 11)
    _paragraph(pdf, introduction, 11)
    for index, lesson in enumerate(lessons, 1):
        pdf.add_page()
        _heading(pdf, f"{index}. {lesson.title}", 16)
        if lesson.summary:
            _paragraph(pdf, lesson.summary, 11)
        _paragraph(pdf, lesson.body, 10)
        if lesson.tags:
            _paragraph(pdf, " · ".join(lesson.tags), 9)
        for picture in pictures[index - 1]:
            pdf.image(io.BytesIO(picture.data), w=min(pdf.epw, 120))
            _paragraph(pdf, picture.attachment.caption, 9)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str, size: int) -> None:
    pdf.set_font_size(size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _paragraph(pdf: FPDF, text: str, size: int) -> None:
    if not text.strip():
        return
    pdf.set_font_size(size)
    pdf.multi_cell(0, size * 0.5, text.strip(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
