"""Render the pages of a PDF to RGB images (pypdfium2), for prediction on PDF input."""

from __future__ import annotations

import pypdfium2 as pdfium
from PIL import Image

DEFAULT_DPI = 100.0
PDF_MAGIC = b"%PDF"
POINTS_PER_INCH = 72.0


class PdfError(ValueError):
    """A PDF that cannot be rendered; the message names the file and the reason."""


def looks_like_pdf(data: bytes) -> bool:
    """PDF files start with %PDF (some have a few bytes of junk before it)."""
    return PDF_MAGIC in data[:1024]


def render_pdf_pages(
    data: bytes, source: str = "<pdf>", dpi: float = DEFAULT_DPI, max_pages: int = 0
) -> list[Image.Image]:
    """Every page (or the first `max_pages`) as an RGB image at `dpi`."""
    if not data:
        raise PdfError(f"{source}: the file is empty (0 bytes)")
    if not looks_like_pdf(data):
        raise PdfError(f"{source}: not a PDF file (no %PDF header)")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise PdfError(f"{source}: the PDF does not open ({error})") from error
    try:
        count = len(document)
        if count == 0:
            raise PdfError(f"{source}: the PDF has no pages")
        if max_pages:
            count = min(count, max_pages)
        pages = []
        for index in range(count):
            page = document[index]
            try:
                bitmap = page.render(scale=dpi / POINTS_PER_INCH)
                pages.append(bitmap.to_pil().convert("RGB"))
            except pdfium.PdfiumError as error:
                raise PdfError(
                    f"{source}: page {index + 1} cannot be rendered ({error})"
                ) from error
            finally:
                page.close()
        return pages
    finally:
        document.close()
