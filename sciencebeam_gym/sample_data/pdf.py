"""The laid-out page as a real PDF (fpdf2): the same fonts, sizes and positions, selectable text.

A span's text is drawn at its baseline; a word followed by a space on the same line carries that
space, so text extraction reads words, not one run of letters.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sciencebeam_gym.sample_data.article import Article
from sciencebeam_gym.sample_data.fonts import font_path
from sciencebeam_gym.sample_data.layout import Page, Shape

# A fixed creation date keeps the bytes of a PDF the same for the same seed.
CREATION_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _style(shape: Shape) -> str | None:
    if shape.fill is not None and shape.stroke is not None:
        return "DF"
    if shape.fill is not None:
        return "F"
    return "D" if shape.stroke is not None else None


def _colour(value) -> tuple:
    """fpdf2's colour arguments for a grey level or an (r, g, b) colour."""
    return value if isinstance(value, tuple) else (value,)


def _draw_shape(pdf, shape: Shape) -> None:
    style = _style(shape)
    if style is None:
        return
    if shape.stroke is not None:
        pdf.set_draw_color(*_colour(shape.stroke))
        pdf.set_line_width(shape.width)
    if shape.fill is not None:
        pdf.set_fill_color(*_colour(shape.fill))
    x0, y0 = shape.points[0], shape.points[1]
    if shape.kind == "rect":
        pdf.rect(x0, y0, shape.points[2] - x0, shape.points[3] - y0, style=style)
    elif shape.kind == "ellipse":
        pdf.ellipse(x0, y0, shape.points[2] - x0, shape.points[3] - y0, style=style)
    elif len(shape.points) == 4:
        pdf.line(*shape.points)
    else:
        points = list(zip(shape.points[0::2], shape.points[1::2], strict=True))
        pdf.polyline(points, style="D")


def pdf_bytes(page: Page, article: Article) -> bytes:
    """One-page PDF of the page, with the article's title and authors as document metadata."""
    from fpdf import FPDF

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = FPDF(unit="pt", format=(page.width, page.height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creation_date(CREATION_DATE)
    pdf.set_title(article.title)
    pdf.set_author(", ".join(author.name for author in article.authors))
    pdf.set_subject(article.journal)
    pdf.set_producer("sciencebeam-gym sample corpus")
    pdf.set_lang("en")
    pdf.add_page()
    for key in sorted({span.font for span in page.spans}):
        pdf.add_font(family=key, style="", fname=font_path(key))
    for shape in page.shapes:
        _draw_shape(pdf, shape)
    for span in page.spans:
        pdf.set_font(span.font, size=span.size)
        pdf.set_text_color(*_colour(span.grey))
        pdf.text(span.x, span.baseline, span.text + (" " if span.space_after else ""))
    return bytes(pdf.output())
